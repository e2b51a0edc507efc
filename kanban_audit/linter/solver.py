"""The whole-program pass: join the summaries, follow values to the writes.

Values are sets of atoms: a string constant, an unknown (with the reason), or a
parameter still to be resolved. A parameter is resolved by walking every
visible call site of its function, and each step of that walk is a hop of the
trace. A finding is reported where its value enters the path to the write.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from kanban_audit.linter.sql import HOLE_CLOSE, HOLE_OPEN, parse_writes
from kanban_audit.linter.values import (
    Attr,
    BinOp,
    Call,
    ClassSummary,
    Comp,
    Concat,
    DictLit,
    Elem,
    Expr,
    FunctionSummary,
    Index,
    Lambda,
    Lit,
    ModuleSummary,
    Narrowed,
    OneOf,
    Param,
    Ref,
    Seq,
    Sink,
    Site,
    Star,
    Unknown,
)
from kanban_audit.rulepack import RulePack

MAX_DEPTH = 24
MAX_TEMPLATES = 64
# Method names of built-in types: never resolved to a user method by name alone.
_BUILTIN_METHODS = frozenset(
    name for kind in (str, dict, list, set, tuple, bytes, int, object) for name in dir(kind)
) | {"execute", "executemany", "executescript", "query", "fetchone", "fetchall", "commit"}


_CONTAINER_BUILTINS = {
    f"builtins.{name}" for name in ("tuple", "list", "frozenset", "set", "dict", "sorted")
}


STEP_LIMIT = 200_000
MAX_ITEMS = 1_000  # a longer parameter list is treated as unknown
MAX_TEXT = 20_000


class TooComplex(Exception):
    """A value took more evaluation steps than any real code needs."""


def _memoized(method):
    """Cache a Program evaluation per (expression, frame) until the next reset.

    Expressions and frames are immutable; the cache holds them, so their ids
    stay unique while it lives. Each call also spends one step of the budget.
    """
    name = method.__name__

    def wrapper(self, expr, frame, depth=0):
        self.steps += 1
        if self.steps > STEP_LIMIT:
            raise TooComplex
        key = (name, id(expr), id(frame))
        hit = self.memo.get(key)
        if hit is not None:
            return hit[2]
        result = method(self, expr, frame, depth)
        self.memo[key] = (expr, frame, result)
        return result

    wrapper.__name__ = name
    wrapper.__doc__ = method.__doc__
    return wrapper


@dataclass(frozen=True)
class Hop:
    """A call on the path to the write: `caller` calls `callee` at `call`."""

    caller: str
    callee: str
    call: Call


@dataclass(frozen=True)
class Atom:
    kind: str  # const | unknown | param
    value: str  # the constant, the reason, or the parameter name
    func: str = ""  # param: the function owning the parameter
    allow: frozenset[str] | None = None
    deny: frozenset[str] = frozenset()
    chain: tuple[Hop, ...] = ()


@dataclass(frozen=True)
class Frame:
    """Parameters of `func` bound to the arguments of `call`, made in `caller`."""

    func: str
    call: Call
    caller: str
    offset: int
    parent: Frame | None
    on_path: bool  # a hop towards the write (else: a helper whose return value is used)


@dataclass(frozen=True)
class Hole:
    expr: Expr
    frame: Frame | None


Template = tuple  # of str | Hole


@dataclass(frozen=True)
class Issue:
    """One offending path: the value, where it enters, the hops, the write."""

    code: str
    atoms: tuple[Atom, ...]
    report_func: str
    report_site: Site
    chain: tuple[Hop, ...]
    sink_func: str
    sink: Sink
    column_note: str


class Program:
    """All summaries, indexed for name resolution and the call graph."""

    def __init__(self, summaries: Iterable[ModuleSummary], pack: RulePack) -> None:
        self.pack = pack
        self.modules: dict[str, ModuleSummary] = {}
        self.functions: dict[str, FunctionSummary] = {}
        self.owner: dict[str, ModuleSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.globals: dict[str, Expr] = {}
        for summary in summaries:
            self.modules.setdefault(summary.module, summary)
            for qual, fn in summary.functions.items():
                self.functions[qual] = fn
                self.owner[qual] = summary
            self.classes.update(summary.classes)
            self.globals.update(summary.globals)
        self.methods_by_name: dict[str, list[str]] = {}
        for qual, fn in self.functions.items():
            if fn.bound:
                self.methods_by_name.setdefault(qual.rsplit(".", 1)[1], []).append(qual)
        self._resolved: dict[str, tuple[str, str] | None] = {}
        self.steps = 0
        self.memo: dict[tuple[str, int, int], tuple] = {}
        self.callers: dict[str, list[tuple[str, Call, int]]] = {}
        self.callees: dict[str, set[str]] = {}
        for qual, fn in self.functions.items():
            for call in fn.calls:
                for callee, offset in self.callees_of(call.func, qual):
                    self.callers.setdefault(callee, []).append((qual, call, offset))
                    self.callees.setdefault(qual, set()).add(callee)
        self.exposed = self._exposed()

    # -- names and calls -----------------------------------------------------

    def resolve(self, qual: str, depth: int = 0) -> tuple[str, str] | None:
        """What a qualified name denotes: (kind, qualname), kind one of
        function, class, global or module."""
        if qual in self._resolved:
            return self._resolved[qual]
        self._resolved[qual] = None  # guards import cycles
        result: tuple[str, str] | None = None
        if qual in self.functions:
            result = ("function", qual)
        elif qual in self.classes:
            result = ("class", qual)
        elif qual in self.globals:
            result = ("global", qual)
        elif qual in self.modules:
            result = ("module", qual)
        elif "." in qual and depth < MAX_DEPTH:
            head, last = qual.rsplit(".", 1)
            base = self.resolve(head, depth + 1)
            if base and base[0] == "module" and last in self.modules[base[1]].imports:
                result = self.resolve(self.modules[base[1]].imports[last], depth + 1)
            elif base and base[0] == "class":
                result = self.class_member(base[1], last)
            elif base and base[0] == "global" and last == "value":
                result = base  # an Enum member's .value is the member's value
        self._resolved[qual] = result
        return result

    def class_member(self, cls: str, name: str, depth: int = 0) -> tuple[str, str] | None:
        """A method or attribute of a class, looked up through its bases."""
        own = f"{cls}.{name}"
        if own in self.functions:
            return ("function", own)
        if own in self.globals:
            return ("global", own)
        summary = self.classes.get(cls)
        if summary is None or depth > 8:
            return None
        for base in summary.bases:
            if isinstance(base, Ref):
                target = self.resolve(base.qual)
                if target and target[0] == "class":
                    found = self.class_member(target[1], name, depth + 1)
                    if found:
                        return found
        return None

    def callees_of(self, func: Expr, caller: str, depth: int = 0) -> list[tuple[str, int]]:
        """Functions a call expression may invoke, with how many leading params are bound."""
        if depth > 6:
            return []
        if isinstance(func, Ref):
            target = self.resolve(func.qual)
            if target is None:
                return []
            kind, qual = target
            if kind == "function":
                return [(qual, 0)]
            if kind == "class":
                init = self.class_member(qual, "__init__")
                return [(init[1], 1)] if init and init[0] == "function" else []
            if kind == "global":
                return self.callees_of(self.globals[qual], caller, depth + 1)
            return []
        if isinstance(func, Attr):
            return self._method_callees(func, caller)
        if isinstance(func, (Index, OneOf, Narrowed)):
            found: list[tuple[str, int]] = []
            for item in self._dispatch_items(func, depth):
                found += self.callees_of(item, caller, depth + 1)
            return found
        return []

    def _method_callees(self, func: Attr, caller: str) -> list[tuple[str, int]]:
        fn = self.functions.get(caller)
        base = func.base
        if isinstance(base, Param) and fn is not None and _is_self(fn, base):
            member = self.class_member(fn.class_name, func.name)
            return [(member[1], 1)] if member and member[0] == "function" else []
        if isinstance(base, Call) and isinstance(base.func, Ref):
            target = self.resolve(base.func.qual)
            if target and target[0] == "class":
                member = self.class_member(target[1], func.name)
                return [(member[1], 1)] if member and member[0] == "function" else []
        if func.name in _BUILTIN_METHODS:
            return []
        candidates = self.methods_by_name.get(func.name, [])
        return [(candidates[0], 1)] if len(candidates) == 1 else []

    def _dispatch_items(self, expr: Expr, depth: int) -> list[Expr]:
        """The entries a dispatch table lookup can produce."""
        if isinstance(expr, Index):
            items: list[Expr] = []
            for base in self.structures(expr.base, None, depth + 1):
                if isinstance(base, DictLit):
                    items += [value for _, value in base.items]
                elif isinstance(base, Seq):
                    items += list(base.items)
            return items
        if isinstance(expr, OneOf):
            return list(expr.options)
        if isinstance(expr, Narrowed):
            return [expr.expr]
        return []

    def _exposed(self) -> dict[str, bool]:
        """Functions reachable from an entry point without passing a sanctioned writer."""
        exposed = {qual: False for qual in self.functions}
        work = [
            qual
            for qual in self.functions
            if not self.callers.get(qual) and not self.pack.is_sanctioned(qual)
        ]
        for qual in work:
            exposed[qual] = True
        while work:
            qual = work.pop()
            for callee in self.callees.get(qual, ()):
                if not exposed.get(callee, True) and not self.pack.is_sanctioned(callee):
                    exposed[callee] = True
                    work.append(callee)
        return exposed

    def site_path(self, qual: str) -> str:
        return self.owner[qual].path

    # -- structures (sequences, dicts, lambdas) -----------------------------

    @_memoized
    def structures(self, expr: Expr, frame: Frame | None, depth: int = 0) -> list[Expr]:
        """Resolve names and parameters until a literal structure (or anything else) remains."""
        if depth > MAX_DEPTH:
            return [Unknown("too deep")]
        if isinstance(expr, Ref):
            target = self.resolve(expr.qual)
            if target and target[0] == "global":
                return self.structures(self.globals[target[1]], frame, depth + 1)
            return [expr]
        if isinstance(expr, Param):
            bound = _binding(frame, expr.func)
            if bound is not None:
                arg = self.argument(bound, expr.name)
                return self.structures(arg, bound.parent, depth + 1)
            return [expr]
        if isinstance(expr, OneOf):
            return [s for option in expr.options for s in self.structures(option, frame, depth + 1)]
        if isinstance(expr, Narrowed):
            return self.structures(expr.expr, frame, depth + 1)
        if (
            isinstance(expr, Call)
            and isinstance(expr.func, Ref)
            and expr.args
            and expr.func.qual in _CONTAINER_BUILTINS
        ):
            return self.structures(expr.args[0], frame, depth + 1)
        if (
            isinstance(expr, Call)
            and isinstance(expr.func, Attr)
            and expr.func.name in ("keys", "values")
            and not expr.args
        ):
            views: list[Expr] = []
            for struct in self.structures(expr.func.base, frame, depth + 1):
                if not isinstance(struct, DictLit):
                    return [expr]
                pick = 0 if expr.func.name == "keys" else 1
                views.append(Seq(tuple(pair[pick] for pair in struct.items)))
            return views
        if isinstance(expr, BinOp) and expr.op in "+*":
            flat = self.flatten(expr, frame, depth + 1)
            return (
                [
                    Seq(
                        tuple(
                            item if item is not None else Star(Unknown("parameters not known here"))
                            for item in f
                        )
                    )
                    for f in flat
                ]
                if flat
                else [expr]
            )
        return [expr]

    @_memoized
    def flatten(self, expr: Expr, frame: Frame | None, depth: int = 0) -> list[list[Expr | None]]:
        """A sequence's possible item lists; None marks a stretch of unknown length."""
        if depth > MAX_DEPTH:
            return [[None]]
        if isinstance(expr, BinOp) and expr.op == "+":
            lefts = self.flatten(expr.left, frame, depth + 1)
            rights = self.flatten(expr.right, frame, depth + 1)
            joined = [a + b for a, b in itertools.islice(itertools.product(lefts, rights), 16)]
            return [items if len(items) <= MAX_ITEMS else [None] for items in joined]
        if isinstance(expr, BinOp) and expr.op == "*":
            seq, times = expr.left, expr.right
            if isinstance(seq, Lit):
                seq, times = times, seq
            if isinstance(times, Lit) and isinstance(times.value, int) and times.value <= MAX_ITEMS:
                return [
                    items * times.value if len(items) * times.value <= MAX_ITEMS else [None]
                    for items in self.flatten(seq, frame, depth + 1)
                ]
            return [[None]]
        results: list[list[Expr | None]] = []
        for struct in self.structures(expr, frame, depth + 1):
            if isinstance(struct, Seq):
                items: list[Expr | None] = []
                for item in struct.items:
                    if isinstance(item, Star):
                        inner = self.flatten(item.expr, frame, depth + 1)
                        items += inner[0] if len(inner) == 1 else [None]
                    else:
                        items.append(item)
                results.append(items)
            elif isinstance(struct, BinOp):
                results += self.flatten(struct, frame, depth + 1)
            else:
                results.append([None])
        return results

    def argument(self, frame: Frame, name: str) -> Expr:
        """The expression a call passes for a parameter (or its default)."""
        fn = self.functions[frame.func]
        call = frame.call
        for keyword, value in call.kwargs:
            if keyword == name:
                return value
        index = fn.params.index(name) - frame.offset if name in fn.params else -1
        positional = call.args
        if index >= 0:
            star_at = next((i for i, a in enumerate(positional) if isinstance(a, Star)), None)
            if star_at is not None and index >= star_at:
                return Unknown(f"argument for `{name}` spread from *args")
            if index < len(positional):
                return positional[index]
        if name in fn.defaults:
            return fn.defaults[name]
        if call.spread:
            return Unknown(f"argument for `{name}` spread from **kwargs")
        return Lit(None)

    # -- values --------------------------------------------------------------

    @_memoized
    def values(self, expr: Expr, frame: Frame | None, depth: int = 0) -> list[Atom]:
        if depth > MAX_DEPTH:
            return [Atom("unknown", "value too deeply nested to follow")]
        if isinstance(expr, Lit):
            return [Atom("const", expr.value)] if isinstance(expr.value, str) else []
        if isinstance(expr, Unknown):
            return [Atom("unknown", expr.reason)]
        if isinstance(expr, Param):
            bound = _binding(frame, expr.func)
            if bound is None:
                return [Atom("param", expr.name, func=expr.func)]
            atoms = self.values(self.argument(bound, expr.name), bound.parent, depth + 1)
            if bound.on_path:
                hop = Hop(bound.caller, bound.func, bound.call)
                atoms = [replace(a, chain=a.chain + (hop,)) for a in atoms]
            return atoms
        if isinstance(expr, Ref):
            target = self.resolve(expr.qual)
            if target is None:
                return [Atom("unknown", f"`{expr.qual}` (not in the analysed code)")]
            if target[0] == "global":
                return self.values(self.globals[target[1]], frame, depth + 1)
            return []
        if isinstance(expr, Attr):
            if expr.name == "value":
                return self.values(expr.base, frame, depth + 1)
            return [Atom("unknown", f"attribute `.{expr.name}` of {_describe(expr.base)}")]
        if isinstance(expr, Index):
            return self._index_values(expr, frame, depth)
        if isinstance(expr, Call):
            return self._call_values(expr, frame, depth)
        if isinstance(expr, OneOf):
            return [a for option in expr.options for a in self.values(option, frame, depth + 1)]
        if isinstance(expr, Narrowed):
            allow = self.const_set(expr.allow, frame) if expr.allow is not None else None
            deny = self.const_set(expr.deny, frame) if expr.deny is not None else None
            atoms = self.values(expr.expr, frame, depth + 1)
            return [n for a in atoms for n in narrow(a, allow, deny or frozenset())]
        if isinstance(expr, (Concat, BinOp)):
            return self._string_values(expr, frame, depth)
        if isinstance(expr, (Elem, Star)):
            inner = expr.seq if isinstance(expr, Elem) else expr.expr
            return [
                a
                for item in self.elements(inner, frame, depth)
                for a in self.values(item, frame, depth + 1)
            ]
        return []

    @_memoized
    def elements(self, expr: Expr, frame: Frame | None, depth: int = 0) -> list[Expr]:
        """What an element of a sequence can be."""
        items: list[Expr] = []
        for struct in self.structures(expr, frame, depth + 1):
            if isinstance(struct, Seq):
                for item in struct.items:
                    if isinstance(item, Star):
                        items += self.elements(item.expr, frame, depth + 1)
                    else:
                        items.append(item)
            elif isinstance(struct, Comp):
                items.append(struct.elt)
            elif isinstance(struct, DictLit):
                items += [key for key, _ in struct.items]
            else:
                items.append(Elem(struct) if not isinstance(struct, Unknown) else struct)
        return items

    def _index_values(self, expr: Index, frame: Frame | None, depth: int) -> list[Atom]:
        atoms: list[Atom] = []
        keys = self.const_set(expr.key, frame)
        for struct in self.structures(expr.base, frame, depth + 1):
            if isinstance(struct, DictLit):
                for key, value in struct.items:
                    key_values = self.const_set(key, frame)
                    if keys is None or key_values is None or keys & key_values:
                        atoms += self.values(value, frame, depth + 1)
            elif isinstance(struct, Seq):
                position = expr.key.value if isinstance(expr.key, Lit) else None
                chosen = (
                    [struct.items[position]]
                    if isinstance(position, int)
                    and -len(struct.items) <= position < len(struct.items)
                    else list(struct.items)
                )
                for item in chosen:
                    atoms += self.values(item, frame, depth + 1)
            else:
                atoms.append(Atom("unknown", f"item of {_describe(struct)}"))
        return atoms

    def _call_values(self, call: Call, frame: Frame | None, depth: int) -> list[Atom]:
        func = call.func
        if isinstance(func, Attr):
            method = func.name
            if method == "get" and call.args:
                looked_up = self._index_values(Index(func.base, call.args[0]), frame, depth)
                default = self.values(call.args[1], frame, depth + 1) if len(call.args) > 1 else []
                return looked_up + default
            if method in ("lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title"):
                return [
                    replace(a, value=getattr(a.value, method)()) if a.kind == "const" else a
                    for a in self.values(func.base, frame, depth + 1)
                ]
            if method in ("join", "format"):
                return self._string_values(call, frame, depth)
        if (
            isinstance(func, Ref)
            and func.qual in ("builtins.str", "builtins.getattr")
            and call.args
        ):
            return (
                self.values(call.args[0], frame, depth + 1)
                if func.qual == "builtins.str"
                else [Atom("unknown", "getattr")]
            )
        atoms: list[Atom] = []
        resolved = False
        for target in self._call_targets(func, frame, depth):
            resolved = True
            if isinstance(target, Lambda):
                atoms += self.values(target.body, frame, depth + 1)
            elif isinstance(target, tuple):
                qual, offset = target
                if _binding(frame, qual) is not None:
                    atoms.append(Atom("unknown", f"recursive call to `{_short(qual)}()`"))
                    continue
                inner = Frame(qual, call, "", offset, frame, on_path=False)
                for ret in self.functions[qual].returns:
                    atoms += self.values(ret, inner, depth + 1)
            elif isinstance(target, ClassSummary) and target.is_enum and call.args:
                atoms += self.values(call.args[0], frame, depth + 1)
        if not resolved:
            atoms.append(Atom("unknown", f"return value of `{_describe(func)}(...)`"))
        return atoms

    def _call_targets(
        self, func: Expr, frame: Frame | None, depth: int
    ) -> Iterator[Lambda | tuple[str, int] | ClassSummary]:
        for struct in self.structures(func, frame, depth + 1):
            if isinstance(struct, Lambda):
                yield struct
            elif isinstance(struct, Index):
                for item in self._dispatch_items(struct, depth):
                    yield from self._call_targets(item, frame, depth + 1)
            elif isinstance(struct, Ref):
                target = self.resolve(struct.qual)
                if target and target[0] == "class" and self.classes[target[1]].is_enum:
                    yield self.classes[target[1]]
                else:
                    yield from self.callees_of(struct, "")
            elif isinstance(struct, Attr):
                caller = frame.func if frame else ""
                yield from self._method_callees(struct, caller)

    def const_set(self, expr: Expr | None, frame: Frame | None) -> frozenset[str] | None:
        """The strings a container (or a single value) holds; None if not all known."""
        if expr is None:
            return None
        found: set[str] = set()
        for struct in self.structures(expr, frame):
            if isinstance(struct, (Seq, Comp, DictLit)):
                members = self.elements(struct, frame)
            else:
                members = [struct]
            for member in members:
                for atom in self.values(member, frame):
                    if atom.kind != "const":
                        return None
                    found.add(atom.value)
        return frozenset(found)

    # -- strings (SQL text) --------------------------------------------------

    @_memoized
    def strings(self, expr: Expr, frame: Frame | None, depth: int = 0) -> list[Template]:
        """Possible texts of a string expression; unresolved parts become holes."""
        if depth > MAX_DEPTH:
            return [(Hole(expr, frame),)]
        if isinstance(expr, Lit):
            return [(str(expr.value),)] if expr.value is not None else [(Hole(expr, frame),)]
        if isinstance(expr, Concat):
            return self._product([self.strings(p, frame, depth + 1) for p in expr.parts])
        if isinstance(expr, BinOp) and expr.op == "+":
            return self._product(
                [
                    self.strings(expr.left, frame, depth + 1),
                    self.strings(expr.right, frame, depth + 1),
                ]
            )
        if isinstance(expr, BinOp) and expr.op == "%":
            return [
                self._percent(t, expr.right, frame, depth)
                for t in self.strings(expr.left, frame, depth + 1)
            ]
        if isinstance(expr, Call) and isinstance(expr.func, Attr):
            if expr.func.name == "join" and expr.args:
                return self._join(expr, frame, depth)
            if expr.func.name == "format":
                return [
                    self._format(t, expr, frame, depth)
                    for t in self.strings(expr.func.base, frame, depth + 1)
                ]
        if isinstance(expr, (Ref, Param, OneOf, Narrowed)):
            structs = self.structures(expr, frame, depth + 1)
            if structs != [expr]:
                texts = [t for s in structs for t in self.strings(s, frame, depth + 1)]
                return texts[:MAX_TEMPLATES]
        if isinstance(expr, Call):
            texts: list[Template] = []
            for target in self._call_targets(expr.func, frame, depth):
                if isinstance(target, tuple) and _binding(frame, target[0]) is None:
                    inner = Frame(target[0], expr, "", target[1], frame, on_path=False)
                    for ret in self.functions[target[0]].returns:
                        texts += self.strings(ret, inner, depth + 1)
            if texts:
                return texts[:MAX_TEMPLATES]
        return [(Hole(expr, frame),)]

    def _product(self, parts: list[list[Template]]) -> list[Template]:
        combos = itertools.islice(itertools.product(*parts), MAX_TEMPLATES)
        texts = [tuple(piece for template in combo for piece in template) for combo in combos]
        return [
            t if _text_size(t) <= MAX_TEXT else (Hole(Unknown("text too long"), None),)
            for t in texts
        ]

    def _join(self, call: Call, frame: Frame | None, depth: int) -> list[Template]:
        assert isinstance(call.func, Attr)
        separators = self.strings(call.func.base, frame, depth + 1)
        items = self.elements(call.args[0], frame, depth + 1)
        texts = [self.strings(item, frame, depth + 1)[0] for item in items]
        joined: list[Template] = []
        for sep in separators[:4]:
            pieces: list = []
            for n, text in enumerate(texts):
                if n:
                    pieces += list(sep)
                pieces += list(text)
            joined.append(tuple(pieces))
        return joined

    def _percent(self, template: Template, args: Expr, frame: Frame | None, depth: int) -> Template:
        structs = self.structures(args, frame, depth + 1)
        struct = structs[0] if len(structs) == 1 else Unknown("format arguments")
        named: dict = {}
        positional: list[Expr] = []
        if isinstance(struct, DictLit):
            named = {k.value: v for k, v in struct.items if isinstance(k, Lit)}
        else:
            positional = list(struct.items) if isinstance(struct, Seq) else [struct]
        position = itertools.count()

        def replace_match(match: re.Match[str]) -> tuple:
            if match.group() == "%%":
                return ("%",)
            if match.group(1):
                value = named.get(match.group(1))
            else:
                index = next(position)
                value = positional[index] if index < len(positional) else None
            return self._text_of(value, Hole(args, frame), frame, depth)

        return _substitute(template, _PERCENT, replace_match)

    def _format(self, template: Template, call: Call, frame: Frame | None, depth: int) -> Template:
        named = dict(call.kwargs)
        position = itertools.count()

        def replace_match(match: re.Match[str]) -> tuple:
            field_name = match.group(1)
            index = next(position) if field_name == "" else None
            if field_name.isdigit():
                index = int(field_name)
            if index is None:
                value = named.get(field_name)
            else:
                value = call.args[index] if index < len(call.args) else None
            text = self._text_of(value, Hole(call, frame), frame, depth)
            quote = ("'",) if match.group(2) in ("r", "a") else ()
            return quote + text + quote

        return _substitute(template, _BRACE, replace_match, _unescape_braces)

    def _text_of(self, value: Expr | None, missing: Hole, frame: Frame | None, depth: int) -> tuple:
        """The first text a substituted value can have, or a hole if there is no value."""
        return self.strings(value, frame, depth + 1)[0] if value is not None else (missing,)

    # -- sinks ---------------------------------------------------------------

    def sink_atoms(self, sink: Sink, frame: Frame | None) -> tuple[list[Atom], str]:
        """The values one write can store in the guarded column, and what it writes."""
        tasks = self.pack.tasks
        if sink.kind == "table":
            return self._table_atoms(sink, frame)
        atoms: list[Atom] = []
        note = ""
        for template in self.strings(sink.target, frame):
            holes = [piece for piece in template if isinstance(piece, Hole)]
            text = "".join(
                piece if isinstance(piece, str) else f"{HOLE_OPEN}{holes.index(piece)}{HOLE_CLOSE}"
                for piece in template
            )
            if tasks.table.lower() not in text.lower():
                continue
            for effect in parse_writes(text):
                if effect.table != tasks.table.lower() or effect.column != tasks.status.lower():
                    continue
                note = f"{tasks.table}.{tasks.status} ({effect.statement})"
                for value in effect.values:
                    if value.kind == "literal":
                        atoms.append(Atom("const", str(value.value)))
                    elif value.kind == "hole":
                        hole = holes[int(value.value)]
                        atoms += self.values(hole.expr, hole.frame)
                    elif value.uncertain:
                        atoms.append(Atom("unknown", "placeholder position depends on built SQL"))
                    else:
                        atoms += self._param_values(sink, value.kind, value.value, frame)
        return atoms, note

    def _param_values(
        self, sink: Sink, kind: str, key: str | int, frame: Frame | None
    ) -> list[Atom]:
        if sink.data is None:
            return []
        data = Elem(sink.data) if sink.method == "executemany" else sink.data
        atoms: list[Atom] = []
        if kind == "named":
            return self._index_values(Index(data, Lit(key)), frame, 0)
        rows = (
            self.flatten(data, frame)
            if sink.method != "executemany"
            else [
                items
                for row in self.elements(sink.data, frame)
                for items in self.flatten(row, frame)
            ]
        )
        for items in rows:
            assert isinstance(key, int)
            if None in items[: key + 1] or key >= len(items):
                atoms.append(Atom("unknown", "parameters not known here"))
            else:
                item = items[key]
                assert item is not None
                atoms += self.values(item, frame)
        return atoms

    def table_names(self, sink: Sink, frame: Frame | None) -> frozenset[str] | None:
        """The tables a sqlite-utils write may target (db["t"] or db.table("t"))."""
        receiver = sink.target
        if isinstance(receiver, Index):
            return self.const_set(receiver.key, frame)
        if isinstance(receiver, Call) and receiver.args:
            return self.const_set(receiver.args[0], frame)
        return None

    def _table_atoms(self, sink: Sink, frame: Frame | None) -> tuple[list[Atom], str]:
        names = self.table_names(sink, frame)
        if not names or self.pack.tasks.table not in names or sink.data is None:
            return [], ""
        records = self.elements(sink.data, frame) if sink.method.endswith("_all") else [sink.data]
        atoms: list[Atom] = []
        for record in records:
            for struct in self.structures(record, frame):
                if isinstance(struct, DictLit):
                    status = Index(struct, Lit(self.pack.tasks.status))
                    atoms += self._index_values(status, frame, 0)
        note = f"{self.pack.tasks.table}.{self.pack.tasks.status} (sqlite-utils {sink.method})"
        return atoms, note

    def mentions_param(self, expr: object, func: str) -> bool:
        if isinstance(expr, Param):
            return expr.func == func
        if isinstance(expr, Hole):
            return expr.frame is None and self.mentions_param(expr.expr, func)
        if isinstance(expr, tuple):
            return any(self.mentions_param(item, func) for item in expr)
        if hasattr(expr, "__dataclass_fields__"):
            return any(
                self.mentions_param(getattr(expr, f), func) for f in expr.__dataclass_fields__
            )
        return False


_PERCENT = re.compile(r"%%|%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]")
_BRACE = re.compile(r"(?<!\{)\{([^{}!:]*)(?:!([rsa]))?(?::[^{}]*)?\}(?!\})")


def _substitute(
    template: Template,
    pattern: re.Pattern[str],
    replace_match: Callable[[re.Match[str]], tuple],
    plain: Callable[[str], str] = str,
) -> Template:
    """Rewrite the literal pieces of a template: each match becomes the pieces given."""
    out: list = []
    for piece in template:
        if not isinstance(piece, str):
            out.append(piece)
            continue
        pos = 0
        for match in pattern.finditer(piece):
            out.append(plain(piece[pos : match.start()]))
            pos = match.end()
            out += replace_match(match)
        out.append(plain(piece[pos:]))
    return tuple(out)


def _unescape_braces(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def _text_size(template: Template) -> int:
    return sum(len(piece) for piece in template if isinstance(piece, str))


def _is_self(fn: FunctionSummary, param: Param) -> bool:
    """Whether a parameter is the instance a method was called on."""
    return bool(fn.bound and fn.class_name and fn.params and param.name == fn.params[0])


def reset_budget(program: Program) -> None:
    program.steps = 0
    program.memo.clear()


def _binding(frame: Frame | None, func: str) -> Frame | None:
    while frame is not None:
        if frame.func == func:
            return frame
        frame = frame.parent
    return None


def narrow(atom: Atom, allow: frozenset[str] | None, deny: frozenset[str]) -> list[Atom]:
    """Apply a guard to one atom: drop excluded constants, make unknowns concrete."""
    if atom.kind == "const":
        keep = (allow is None or atom.value in allow) and atom.value not in deny
        return [atom] if keep else []
    if atom.kind == "unknown":
        if allow is not None:
            return [replace(atom, kind="const", value=v) for v in sorted(allow - deny - atom.deny)]
        return [replace(atom, deny=atom.deny | deny)]
    merged_allow = (
        allow if atom.allow is None else (atom.allow if allow is None else atom.allow & allow)
    )
    return [replace(atom, allow=merged_allow, deny=atom.deny | deny)]


def _short(qual: str) -> str:
    return qual.rsplit(".", 1)[-1]


def _describe(expr: Expr) -> str:
    if isinstance(expr, Param):
        return f"parameter `{expr.name}`"
    if isinstance(expr, Ref):
        return f"`{expr.qual.rsplit('.', 1)[-1]}`"
    if isinstance(expr, Attr):
        return f"`{_describe(expr.base).strip('`')}.{expr.name}`"
    if isinstance(expr, Call):
        return f"the result of {_describe(expr.func)}"
    if isinstance(expr, Unknown):
        return expr.reason
    return "an expression"


__all__ = ["Program", "Issue", "Atom", "Hop", "Frame", "TooComplex", "narrow", "reset_budget"]
