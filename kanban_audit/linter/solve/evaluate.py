"""What an expression can be, in a call context: one function per construct.

`values` gives the atoms a value may be (string constants, unknowns with a
reason, parameters still open); `structures` resolves names until a literal
sequence, dict or lambda appears; `flatten` and `elements` read sequences;
`strings` (templates.py) gives the texts. All share one Context: memo,
steps and depth.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kanban_audit.linter.solve import (
    conditions,
    decorators,
    dispatch,
    enums,
    exceptions,
    fielddefaults,
    instances,
    mappings,
    models,
    ormfields,
    ormmodels,
    outside_members,
    picks,
    results,
    sets,
    shaped,
    templates,
    unknown_table,
    unroll,
)
from kanban_audit.linter.solve.atoms import (
    Atom,
    Frame,
    Hole,
    Hop,
    Template,
    binding,
    mentions_param,
    narrow,
    open_expr,
    short,
)
from kanban_audit.linter.solve.calls import (
    Callee,
    callees_of,
    dispatch_items,
    method_callees,
)
from kanban_audit.linter.solve.context import BUDGET, Context, Frameless, memoized
from kanban_audit.linter.solve.index import ProgramIndex
from kanban_audit.linter.solve.receivers import is_self
from kanban_audit.linter.sql import Orders, WriteEffect, parse_writes
from kanban_audit.linter.sqlfiles import SqlFiles
from kanban_audit.linter.values import (
    SPREAD,
    STAR,
    STRING_METHODS,
    Attr,
    BinOp,
    Call,
    Caught,
    Check,
    ClassSummary,
    Comp,
    Concat,
    DictLit,
    Elem,
    Expr,
    FunctionSummary,
    Holds,
    Index,
    Lambda,
    Lit,
    Narrowed,
    OneOf,
    OnUnknownTable,
    Param,
    Persisted,
    Ref,
    Refined,
    Seq,
    Star,
    Stored,
    Unknown,
    one_of,
)
from kanban_audit.rulepack import RulePack

if TYPE_CHECKING:
    from kanban_audit.linter.solve.callgraph import CallGraph
    from kanban_audit.linter.solve.reads import Reads

MAX_ITEMS = 1_000  # a longer parameter list is treated as unknown
MAX_CHOICES = 16  # item lists a sequence built from alternatives may have
CONTAINER_BUILTINS = {
    f"builtins.{name}" for name in ("tuple", "list", "frozenset", "set", "dict", "sorted")
}
STR_FUNCTIONS = {f"builtins.str.{name}" for name in STRING_METHODS}  # str.lower(s)

OrdersKey = tuple[tuple[str, tuple[str, ...]], ...]
Items = list[Expr | None]  # a sequence's items; None marks a stretch of unknown length


class Evaluator:
    """Evaluates summary expressions over the index; `reset()` starts a new budget."""

    def __init__(
        self, index: ProgramIndex, pack: RulePack, sql_files: SqlFiles | None = None
    ) -> None:
        self.index = index
        self.pack = pack
        # The analysed tree's own `.sql` files (solve/files.py reads them by path).
        self.sql_files = sql_files or SqlFiles()
        self.ctx = Context()
        # Who calls whom, once the program has built it (models follow callers).
        self.graph: CallGraph | None = None
        # SQL texts parsed for their writes: the same text reaches many writes, along
        # many paths, in every round of a growing program (kept across budgets).
        self.parsed: dict[tuple[str, OrdersKey], list[WriteEffect]] = {}
        # Whether an expression reads a function's parameters: asked of the same holes
        # on every call path of every write (the expression is kept: its id is the key).
        self.mentioned: dict[tuple[int, str, frozenset[str]], tuple[Expr, bool]] = {}
        # What depends only on the program's names, not on a budget or a frame (a
        # property read as a call, a field's default, a helper's result in a caller's
        # terms): kept across budgets until the program grows.
        self.lasting: dict[Any, Any] = {}
        # What an expression gives with no call frame, kept across the budgets of one
        # program (solve/context.py), with what working it out read.
        self.frameless: dict[tuple[str, int], Frameless] = {}

    def grown(self) -> None:
        """The program holds new names: what was read of the old ones may change."""
        self.lasting.clear()
        self.frameless.clear()

    def replay(self, reads: Reads) -> None:
        """Record, in the decision being made and for the pre-filter, what an answer
        made earlier read."""
        if self.index.reads is not None:
            self.index.reads.merge(reads)
        self.index.unresolved |= reads.unresolved
        self.index.subclassed |= reads.subclasses
        if self.graph is not None and self.graph.consulted is not None:
            self.graph.consulted |= reads.callers

    def reset(self) -> None:
        self.ctx = Context()

    def remembered(self, store: dict, key: Any, make: Callable[[], Any], *alive: Any) -> Any:
        """`make()`, worked out once per key in `store` (`lasting`, or the context's
        memo), with what working it out read replayed into each decision that uses it:
        a decision kept across rounds (solve/reads.py) must hold every read its answer
        rests on. `alive`: the objects whose ids the key holds."""
        hit = store.get(key)
        outer = self.index.reads
        if hit is not None and (hit[2] is not None or outer is None):
            if hit[2] is not None and outer is not None:
                self.replay(hit[2])
            return hit[1]
        own = self.index.reads = None if outer is None else type(outer)()
        ctx = self.ctx
        ctx.framing += 1
        try:
            value = make()
        finally:
            ctx.framing -= 1
            self.index.reads = outer
        if own is not None:
            outer.merge(own)
        store[key] = (alive, value, own)
        return value

    def writes(self, text: str, orders: Orders) -> list[WriteEffect]:
        """The column writes of an SQL text (sql.parse_writes), each text parsed once."""
        key = (text, tuple((table, tuple(columns)) for table, columns in orders.items()))
        found = self.parsed.get(key)
        if found is None:
            found = self.parsed[key] = parse_writes(text, orders)
        return found

    def mentions(self, expr: Expr, func: str, skip: frozenset[str]) -> bool:
        """atoms.mentions_param(expr, func, skip), each expression read once."""
        key = (id(expr), func, skip)
        hit = self.mentioned.get(key)
        if hit is None:
            hit = self.mentioned[key] = (expr, mentions_param(expr, func, skip))
        return hit[1]

    def helper_frame(self, qual: str, call: Call, offset: int, frame: Frame | None) -> Frame:
        """The frame in which `call` runs the helper `qual` for what it returns: the
        same object each time it is asked for, so what is read in it is read once."""
        key = (qual, id(call), offset, id(frame))
        inner = self.ctx.frames.get(key)
        if inner is None:
            inner = self.ctx.frames[key] = Frame(qual, call, "", offset, frame, on_path=False)
        return inner

    def field_default(self, call: Call) -> Expr | None:
        """fielddefaults.declared(call), the same value each time it is asked for: a
        factory's call is read once, not once per reading of the field."""
        key = ("field default", id(call))
        return self.remembered(
            self.lasting, key, lambda: fielddefaults.declared(self.index, call), call
        )

    # -- structures ----------------------------------------------------------

    @memoized(lambda expr, frame: [Unknown(f"{BUDGET}: a value nested too deeply")])
    def structures(self, expr: Expr, frame: Frame | None) -> list[Expr]:
        """Resolve names and parameters until a literal structure (or anything else) remains."""
        if isinstance(expr, Ref):
            target = self.index.resolve(expr.qual)
            if target and target[0] == "global":
                return self.structures(self.index.globals[target[1]], frame)
            return [expr]
        if isinstance(expr, Param):
            bound = binding(frame, expr.func)
            if bound is not None:
                return self.structures(self.argument(bound, expr.name), bound.parent)
            return [expr]
        if isinstance(expr, OneOf):
            return [s for option in expr.options for s in self.structures(option, frame)]
        if isinstance(expr, Caught):
            return [s for kept in self.caught(expr) for s in self.structures(kept, frame)]
        if isinstance(expr, Narrowed) and expr.allow is None and expr.deny is not None:
            inner = self.structures(expr.expr, frame)
            return [mappings.without(self, s, expr.deny, frame) for s in inner]
        if isinstance(expr, (Narrowed, Refined)):
            return self.structures(expr.expr, frame)
        if isinstance(expr, Stored):
            return self.structures(expr.value, None)
        if isinstance(expr, Attr):
            kept = self.kept_in(expr, frame)
            if kept:
                return [s for qual in kept for s in self.structures(Ref(qual), frame)]
            read = decorators.property_read(self, expr)
            if read is not None:
                return self.structures(read, frame)
            held = instances.held_by(self, expr, frame)
            return [s for value in held for s in self.structures(value, frame)] or [expr]
        if isinstance(expr, Call):
            return self._call_structures(expr, frame)
        if isinstance(expr, BinOp) and expr.op in sets.OPERATORS:
            return sets.combine(self, expr.op, (expr.left, expr.right), expr, frame)
        if isinstance(expr, Comp):
            return unroll.unrolled(self, expr, frame) or [expr]
        if isinstance(expr, DictLit) and expr.comp is not None:
            return unroll.unrolled_dict(self, expr, frame) or [expr]
        if isinstance(expr, Index):
            return self._item_structures(expr, frame)
        if isinstance(expr, Elem):
            # Some item of a known sequence (an element of an unknown one stays).
            found: list[Expr] = []
            for item in self.elements(expr.seq, frame):
                found += [item] if isinstance(item, Elem) else self.structures(item, frame)
            return found
        if isinstance(expr, BinOp) and expr.op in "+*" and not _joins_text(expr):
            flat = self.flatten(expr, frame)
            unknown = Star(Unknown("parameters not known here"))
            return [Seq(tuple(unknown if i is None else i for i in f)) for f in flat] or [expr]
        return [expr]

    def _call_structures(self, call: Call, frame: Frame | None) -> list[Expr]:
        """tuple(x), list(x)... are x (and empty without x); dict(...), dict views and
        dumps of model instances are dicts and sequences; set algebra by method is
        set algebra; else what the called functions return."""
        func = call.func
        built = mappings.built_dict(call)
        if built is not None:
            return [built]
        default = self.field_default(call)
        if default is not None:
            return self.structures(default, frame)
        dumps = models.dumped(self, call, frame)
        if dumps is not None:
            return dumps
        if isinstance(func, Ref) and func.qual in CONTAINER_BUILTINS:
            return self.structures(call.args[0], frame) if call.args else [Seq(())]
        if isinstance(func, Ref) and func.qual == "builtins.enumerate" and call.args:
            return self._enumerated(call, frame)
        if isinstance(func, Attr) and func.name in sets.METHODS and call.args:
            operands = (func.base, *call.args)
            return sets.combine(self, sets.METHODS[func.name], operands, call, frame)
        options = picks.picked(call)
        if options is not None:
            return [s for option in options for s in self.structures(option, frame)]
        return mappings.views(self, call, frame) or results.returned_structures(self, call, frame)

    def _enumerated(self, call: Call, frame: Frame | None) -> list[Expr]:
        """`enumerate(seq, start)` of a literal sequence or a module constant: its
        (number, item) pairs, so a comprehension over it unrolls (`placeholder(i)`
        per column). A list held elsewhere may be filled out of sight (appends through
        another name), so its elements stay unknown."""
        start = dict(call.kwargs).get("start", call.args[1] if len(call.args) > 1 else Lit(0))
        if not (isinstance(start, Lit) and type(start.value) is int):
            return [call]
        seq = call.args[0]
        target = self.index.resolve(seq.qual) if isinstance(seq, Ref) else None
        if not (isinstance(seq, Seq) or (target and target[0] == "global")):
            return [call]
        pairs: list[Expr] = []
        for items in self.flatten(call.args[0], frame):
            if None in items:
                return [call]
            numbered = enumerate(items, start.value)
            pairs.append(Seq(tuple(Seq((Lit(n), item)) for n, item in numbered)))  # type: ignore[arg-type]
        return pairs or [call]

    def _item_structures(self, expr: Index, frame: Frame | None) -> list[Expr]:
        """`pair[0]` of a literal sequence is that item, when it is the only
        possibility there (a text made of it stays one text); a result unpacked
        from a function (`a, b = helper()`) is that item of each tuple it may
        return. Else the lookup stays."""
        position = expr.key.value if isinstance(expr.key, Lit) else None
        if not isinstance(position, int):
            return [expr]
        found: list[Expr] = []
        for base in self.structures(expr.base, frame):
            element = picks.item(base)
            if element is not None:
                found += [s for s in self.structures(element, frame) if s not in found]
                continue
            items = base.items if isinstance(base, Seq) else ()
            spread = any(isinstance(item, Star) for item in items)
            if spread or not -len(items) <= position < len(items):
                return [expr]
            one = self.structures(items[position], frame)
            if len(one) != 1:
                return [expr]
            found += [s for s in one if s not in found]
        return found or [expr]

    @memoized(lambda expr, frame: [[None]])
    def flatten(self, expr: Expr, frame: Frame | None) -> list[Items]:
        """A sequence's possible item lists."""
        if isinstance(expr, BinOp) and expr.op == "+":
            lefts = self.flatten(expr.left, frame)
            rights = self.flatten(expr.right, frame)
            joined = [a + b for a, b in itertools.islice(itertools.product(lefts, rights), 16)]
            return [items if len(items) <= MAX_ITEMS else [None] for items in joined]
        if isinstance(expr, BinOp) and expr.op == "*":
            seq, times = expr.left, expr.right
            if isinstance(seq, Lit):
                seq, times = times, seq
            if isinstance(times, Lit) and isinstance(times.value, int) and times.value <= MAX_ITEMS:
                return [
                    items * times.value if len(items) * times.value <= MAX_ITEMS else [None]
                    for items in self.flatten(seq, frame)
                ]
            return [[None]]
        results: list[Items] = []
        structs = self.structures(expr, frame)
        if len(structs) > 1:  # `args or None`: None binds nothing, the other choices do
            structs = [s for s in structs if s != Lit(None)] or structs
        for struct in structs:
            if isinstance(struct, Seq):
                lists: list[Items] = [[]]
                for item in struct.items:
                    # A spread of one of a few known sequences: one list per choice.
                    inner = self.flatten(item.expr, frame) if isinstance(item, Star) else [[item]]
                    if len(lists) * len(inner) > MAX_CHOICES:
                        inner = [[None]]
                    lists = [a + b for a in lists for b in inner]
                results += lists
            elif isinstance(struct, BinOp):
                results += self.flatten(struct, frame)
            elif isinstance(struct, DictLit):
                # Iterating a dict gives its keys.
                results += self.flatten(Seq(tuple(key for key, _ in struct.items)), frame)
            else:
                results.append([None])
        return results

    @memoized(None)
    def elements(self, expr: Expr, frame: Frame | None) -> list[Expr]:
        """What an element of a sequence can be."""
        items: list[Expr] = []
        for struct in self.structures(expr, frame):
            if isinstance(struct, Seq):
                for item in struct.items:
                    if isinstance(item, Star):
                        items += self.elements(item.expr, frame)
                    else:
                        items.append(item)
            elif isinstance(struct, Comp):
                items.append(struct.elt)
            elif isinstance(struct, DictLit):
                for key, _ in struct.items:
                    items += self.elements(key.expr, frame) if isinstance(key, Star) else [key]
            elif isinstance(struct, Narrowed):  # a container lacking some members
                items += [Narrowed(i, None, struct.deny) for i in self.elements(struct.expr, frame)]
            elif isinstance(struct, Ref) and (members := enums.members(self, struct.qual)):
                items += members
            else:
                items.append(Elem(struct) if not isinstance(struct, Unknown) else struct)
        return items

    def argument(self, frame: Frame, name: str) -> Expr:
        """The expression a call passes for a parameter (or its default)."""
        fn = self.index.functions[frame.func]
        call = frame.call
        if name.startswith(SPREAD):
            return mappings.rest_keywords(fn, call)
        positional = self._spliced(call.args, frame.parent)
        if name.startswith(STAR):
            return _rest_positional(fn, frame, positional)
        for keyword, value in call.kwargs:
            if keyword == name:
                return value
        index = fn.params.index(name) - frame.offset if name in fn.params else -1
        if name in fn.params and index < 0 and isinstance(call.func, Attr):
            return call.func.base  # the instance a method is called on
        if index >= 0:
            star_at = next((i for i, a in enumerate(positional) if isinstance(a, Star)), None)
            if star_at is not None and index >= star_at:
                return Unknown(f"argument for `{name}` spread from *args")
            if index < len(positional):
                return positional[index]
        spread = mappings.spread_argument(call, name, fn.defaults.get(name))
        if spread is not None:
            return spread
        if name in fn.defaults:
            return fn.defaults[name]
        if call.spread:
            return Unknown(f"argument for `{name}` spread from **kwargs")
        return Lit(None)

    def _spliced(self, args: tuple[Expr, ...], frame: Frame | None) -> tuple[Expr, ...]:
        """A call's positional arguments, each `*seq` of one known sequence in its place
        (`func(*args)` in a wrapper whose `*args` a call binds)."""
        if not any(isinstance(arg, Star) for arg in args):
            return args
        items: list[Expr] = []
        for arg in args:
            known = self.structures(arg.expr, frame) if isinstance(arg, Star) else []
            if len(known) == 1 and isinstance(known[0], Seq):
                items += known[0].items
            else:
                items.append(arg)
        return tuple(items)

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

    # -- values: one function per construct -------------------------------------

    @memoized(lambda expr, frame: [Atom("unknown", f"{BUDGET}: a value nested too deeply")])
    def values(self, expr: Expr, frame: Frame | None) -> list[Atom]:
        """The atoms a value may be."""
        rule = _VALUES.get(type(expr))
        return rule(self, expr, frame) if rule else []

    def _lit(self, expr: Lit, frame: Frame | None) -> list[Atom]:
        """A text, or a number as the column stores it (a board's states may be numbers)."""
        value = expr.value
        if isinstance(value, str):
            return [Atom("const", value)]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return [Atom("const", str(value))]
        return []

    def _unknown(self, expr: Unknown, frame: Frame | None) -> list[Atom]:
        return [Atom("unknown", expr.reason)]

    def _param(self, expr: Param, frame: Frame | None) -> list[Atom]:
        bound = binding(frame, expr.func)
        if bound is None:
            return [Atom("param", expr.name, func=expr.func)]
        atoms = self.values(self.argument(bound, expr.name), bound.parent)
        if bound.on_path:
            hop = dispatch.hop(bound.caller, bound.func, bound.call)
            atoms = [replace(a, chain=a.chain + (hop,)) for a in atoms]
        return atoms

    def _ref(self, expr: Ref, frame: Frame | None) -> list[Atom]:
        target = self.index.resolve(expr.qual)
        if target is None:
            return [outside_members.member_atom(self, expr.qual)]
        if target[0] == "global":
            value = self.index.globals[target[1]]
            member = ormmodels.choice_member(self, target[1], value)
            return self.values(value if member is None else member, frame)
        return []

    def _attr(self, expr: Attr, frame: Frame | None) -> list[Atom]:
        kept = self.kept_in(expr, frame)
        if kept:
            return [a for qual in kept for a in self.values(Ref(qual), frame)]
        nested = self.nested_class(expr.base)
        if nested:  # `self.Status.RUNNING`: a member of a class nested in the instance's
            return self.values(Ref(f"{nested}.{expr.name}"), frame)
        read = decorators.property_read(self, expr)
        if read is not None:
            return self.values(read, frame)
        carried = instances.assigned(self, expr, frame)
        if carried is not None:
            return self.values(*carried)
        fields = models.attribute(self, expr, frame)
        if fields is not None:
            return fields
        if expr.name == "value":
            return self.values(expr.base, frame)
        if isinstance(expr.base, Param) and self.class_of_self(expr.base):
            reason = f"`{expr.base.name}.{expr.name}`, not assigned in the analysed code"
            return [Atom("unknown", reason)]
        return [Atom("unknown", f"attribute `.{expr.name}` of {describe(expr.base)}")]

    def kept_in(self, expr: Attr, frame: Frame | None) -> list[str]:
        """Where `self.x` (or `cls.x`) read in a method is kept: the class attributes
        holding every value stored in it (index.attribute), for an instance of the
        method's class or, when the calls in `frame` say, of a subclass."""
        base = expr.base
        cls = self.class_of_self(base) if isinstance(base, Param) else ""
        if not cls:
            return []
        while isinstance(base, Param) and (bound := binding(frame, base.func)) is not None:
            base, frame = self.argument(bound, base.name), bound.parent
            narrower = self.class_of_self(base) if isinstance(base, Param) else ""
            if not narrower or cls not in self.index.ancestors(narrower):
                break
            cls = narrower
        return self.index.attribute(cls, expr.name)

    def nested_class(self, expr: Expr) -> str:
        """The class `self.Name` denotes when Name is a class nested in the instance's
        class (or a base of it); "" otherwise."""
        if not (isinstance(expr, Attr) and isinstance(expr.base, Param)):
            return ""
        cls = self.class_of_self(expr.base)
        member = self.index.class_member(cls, expr.name) if cls else None
        return member[1] if member and member[0] == "class" else ""

    def class_of_self(self, param: Param) -> str:
        """The class of a method whose instance (or class) this parameter is, if any."""
        fn = self.index.functions.get(param.func)
        return fn.class_name if fn is not None and is_self(fn, param) else ""

    def _stored(self, expr: Stored, frame: Frame | None) -> list[Atom]:
        """A value stored in an attribute, read in any method: it enters where it is
        stored, whatever called that method (its parameters are read at every call)."""
        hop = Hop(expr.func, expr.func, expr.site, stored=expr.attr)
        return [replace(a, chain=a.chain + (hop,)) for a in self.values(expr.value, None)]

    def _one_of(self, expr: OneOf, frame: Frame | None) -> list[Atom]:
        """Each atom once: options joined where branches met share their parts, and
        a value rebound on n branches would otherwise repeat its atoms 2**n times."""
        return list(dict.fromkeys(a for option in expr.options for a in self.values(option, frame)))

    def caught(self, expr: Caught) -> list[Expr]:
        """What goes on from a `raise`: the value, if the handlers decide as it needs."""
        return [expr.expr] if exceptions.caught(self.index, expr) == expr.if_caught else []

    def _caught(self, expr: Caught, frame: Frame | None) -> list[Atom]:
        return [a for kept in self.caught(expr) for a in self.values(kept, frame)]

    def _narrowed(self, expr: Narrowed, frame: Frame | None) -> list[Atom]:
        if isinstance(expr.allow, Holds):
            allow, deny = conditions.bounds(self, expr.allow, frame)
        else:
            allow = self.const_set(expr.allow, frame) if expr.allow is not None else None
            deny = self.const_set(expr.deny, frame) if expr.deny is not None else None
        atoms = self.values(expr.expr, frame)
        return [n for a in atoms for n in narrow(a, allow, deny or frozenset())]

    def _persisted(self, expr: Persisted, frame: Frame | None) -> list[Atom]:
        return [ormfields.as_stored(a, expr.texts) for a in self.values(expr.expr, frame)]

    def _on_unknown_table(self, expr: OnUnknownTable, frame: Frame | None) -> list[Atom]:
        guarded = self.pack.tasks.guarded
        return [
            judged
            for atom in self.values(expr.expr, frame)
            for judged in unknown_table.on_unknown_table(guarded, expr.statement, atom)
        ]

    def _verdict(self, expr: Check | Holds, frame: Frame | None) -> list[Atom]:
        """A truth value, never a status (a list it bounds is read by conditions.py);
        a constant one is that constant."""
        if isinstance(expr, Check) and expr.verdict is not None:
            return []
        return [Atom("unknown", "comparison")]

    def _refined(self, expr: Refined, frame: Frame | None) -> list[Atom]:
        return self.values(expr.expr, frame)

    def _text(self, expr: Expr, frame: Frame | None) -> list[Atom]:
        return templates.string_values(self, expr, frame)

    def _operation(self, expr: BinOp, frame: Frame | None) -> list[Atom]:
        """`+`, `*`, `%` build texts; `|`, `&`, `-` compute numbers or sets, never a status."""
        if expr.op in sets.OPERATORS:
            return [Atom("unknown", "arithmetic")]
        return self._text(expr, frame)

    def _element(self, expr: Elem | Star, frame: Frame | None) -> list[Atom]:
        inner = expr.seq if isinstance(expr, Elem) else expr.expr
        atoms: list[Atom] = []
        for item in self.elements(inner, frame):
            if isinstance(item, Elem) and isinstance(item.seq, Param):
                atoms.append(read_later(item.seq, item))
            elif isinstance(item, Elem):  # a sequence not known here
                atoms.append(Atom("unknown", f"an element of {describe(item.seq)}"))
            else:
                atoms += self.values(item, frame)
        return atoms

    def index_values(self, expr: Index, frame: Frame | None) -> list[Atom]:
        """`d[k]` of a literal dict (the entries k may select) or `s[i]` of a sequence."""
        atoms: list[Atom] = []
        keys = self.const_set(expr.key, frame)
        for struct in self.structures(expr.base, frame):
            if isinstance(struct, DictLit):
                for key, value in struct.items:
                    if isinstance(key, Star):  # a spread mapping: look it up there
                        atoms += self.values(self.item(key.expr, expr.key), frame)
                        continue
                    key_values = self.const_set(key, frame)
                    if keys is None or key_values is None or keys & key_values:
                        atoms += self.values(value, frame)
            elif isinstance(struct, Seq):
                position = expr.key.value if isinstance(expr.key, Lit) else None
                chosen = (
                    [struct.items[position]]
                    if isinstance(position, int)
                    and -len(struct.items) <= position < len(struct.items)
                    else list(struct.items)
                )
                for item in chosen:
                    atoms += self.values(item, frame)
            elif (element := picks.item(struct)) is not None:
                atoms += self.values(element, frame)
            else:
                param = _parameter(struct)
                if param is None:
                    atoms.append(Atom("unknown", f"item of {describe(struct)}"))
                else:
                    atoms.append(read_later(param, Index(struct, _key(expr.key, keys))))
        return list(dict.fromkeys(atoms))

    def item(self, base: Expr, key: Expr) -> Index:
        """`base[key]`, the same object each time it is asked for: a dict rebuilt
        from itself on many branches (`row = {**row, ...}`) is looked up once per
        version, not once per path through the versions."""
        memo_key = ("item", id(base), id(key))
        hit = self.ctx.memo.get(memo_key)
        if hit is None:
            hit = (base, key, Index(base, key))
            self.ctx.memo[memo_key] = hit
        return hit[2]

    def _call(self, call: Call, frame: Frame | None) -> list[Atom]:
        func = call.func
        default = self.field_default(call)
        if default is not None:
            return self.values(default, frame)
        if isinstance(func, Attr):
            method = func.name
            if method == "get" and call.args:
                looked_up = self.index_values(Index(func.base, call.args[0]), frame)
                default = self.values(call.args[1], frame) if len(call.args) > 1 else []
                return looked_up + default
            if method in STRING_METHODS:
                atoms = self.values(func.base, frame)
                return list(dict.fromkeys(_text_method(a, method, call) for a in atoms))
            if method in ("join", "format"):
                return templates.string_values(self, call, frame)
        if isinstance(func, Ref) and func.qual == "builtins.str" and call.args:
            return self.values(call.args[0], frame)
        if isinstance(func, Ref) and func.qual in STR_FUNCTIONS and call.args:
            method = func.qual.rsplit(".", 1)[1]
            atoms = self.values(call.args[0], frame)
            return list(dict.fromkeys(_text_method(a, method, call) for a in atoms))
        options = picks.picked(call)
        if options is not None:
            return [a for option in options for a in self.values(option, frame)]
        if dispatch.is_lookup(call):
            return self._looked_up(call, frame)
        atoms: list[Atom] = []
        resolved = False
        for target in self.call_targets(func, frame):
            resolved = True
            if isinstance(target, Lambda):
                atoms += self.values(target.body, frame)
            elif isinstance(target, tuple):
                qual, offset = target
                if binding(frame, qual) is not None:
                    atoms.append(Atom("unknown", f"recursive call to `{short(qual)}()`"))
                    continue
                inner = self.helper_frame(qual, call, offset, frame)
                for ret in self.index.functions[qual].returns:
                    atoms += self.values(ret, inner)
            elif isinstance(target, ClassSummary) and target.is_enum and call.args:
                atoms += enums.constructed(self, target, call, frame)
        if not resolved:
            reason = _returned(func)
            atoms.append(shaped.shaped(self, call, frame, reason) or Atom("unknown", reason))
        return atoms

    def _looked_up(self, call: Call, frame: Frame | None) -> list[Atom]:
        """`getattr(obj, "x"[, default])`: `obj.x` (or the default); a computed name
        could be any attribute."""
        names = self.const_set(call.args[1], frame)
        if names is None:
            return [Atom("unknown", "getattr with a name not known here")]
        atoms = [a for name in sorted(names) for a in self.values(Attr(call.args[0], name), frame)]
        return atoms + (self.values(call.args[2], frame) if len(call.args) > 2 else [])

    def call_targets(
        self, func: Expr, frame: Frame | None
    ) -> Iterator[Lambda | Callee | ClassSummary]:
        """What a called expression may be: lambdas, functions, Enum classes."""
        for struct in self.structures(func, frame):
            if isinstance(struct, Lambda):
                yield struct
            elif isinstance(struct, Index):
                for item in dispatch_items(self, struct):
                    yield from self.call_targets(item, frame)
            elif isinstance(struct, Ref):
                target = self.index.resolve(struct.qual)
                if target and target[0] == "class" and self.index.classes[target[1]].is_enum:
                    yield self.index.classes[target[1]]
                else:
                    yield from callees_of(self, struct, "")
            elif isinstance(struct, Attr):
                yield from method_callees(self, struct, frame.func if frame else "")
            elif dispatch.is_lookup(struct):
                yield from dispatch.lookup_callees(self, struct, frame)

    # -- texts -----------------------------------------------------------------

    @memoized(lambda expr, frame: [(Hole(expr, frame),)])
    def strings(self, expr: Expr, frame: Frame | None) -> list[Template]:
        """Possible texts of a string expression; unresolved parts become holes."""
        if isinstance(expr, Caught):
            return [t for kept in self.caught(expr) for t in self.strings(kept, frame)]
        return templates.strings(self, expr, frame)

    def product(self, parts: list[list[Template]]) -> list[Template]:
        """Every text made of one text of each part, in order, capped (templates.py)."""
        return templates.product(self, parts)


_VALUES: dict[type, Callable[[Evaluator, Expr, Frame | None], list[Atom]]] = {
    Lit: Evaluator._lit,
    Unknown: Evaluator._unknown,
    Param: Evaluator._param,
    Ref: Evaluator._ref,
    Attr: Evaluator._attr,
    Index: Evaluator.index_values,
    Call: Evaluator._call,
    OneOf: Evaluator._one_of,
    Narrowed: Evaluator._narrowed,
    Concat: Evaluator._text,
    BinOp: Evaluator._operation,
    Elem: Evaluator._element,
    Star: Evaluator._element,
    Stored: Evaluator._stored,
    Refined: Evaluator._refined,
    Check: Evaluator._verdict,
    Holds: Evaluator._verdict,
    Caught: Evaluator._caught,
    Persisted: Evaluator._persisted,
    OnUnknownTable: Evaluator._on_unknown_table,
}  # type: ignore[dict-item]


def _joins_text(expr: BinOp) -> bool:
    """Whether `+` joins texts (a literal text on either side), not sequences."""
    sides = (expr.left, expr.right)
    return any(
        isinstance(side, Concat)
        or (isinstance(side, Lit) and isinstance(side.value, str))
        or (isinstance(side, BinOp) and side.op == "+" and _joins_text(side))
        for side in sides
    )


def _rest_positional(fn: FunctionSummary, frame: Frame, positional: tuple[Expr, ...]) -> Expr:
    """What `*args` receives: the positional arguments the named parameters do not
    take (the instance too, for a method whose named parameters do not include it)."""
    taken = len(fn.params) - fn.kwonly - frame.offset
    call = frame.call
    if taken < 0 and isinstance(call.func, Attr):
        return Seq((call.func.base, *positional))
    return Seq(positional[max(taken, 0) :])


def _parameter(struct: Expr) -> Param | None:
    """The parameter a structure is (or is an element of, or is without some keys:
    `body` after `if "title" in body: ...`), when it is not bound here."""
    inner = struct.seq if isinstance(struct, Elem) else struct
    if isinstance(inner, Narrowed) and inner.allow is None:
        inner = inner.expr
    return inner if isinstance(inner, Param) else None


def read_later(param: Param, expr: Expr) -> Atom:
    """A value read from a parameter not bound here: read again at each call site."""
    return Atom("param", param.name, func=param.func, expr=expr)


def _key(key: Expr, strings: frozenset[str] | None) -> Expr:
    """An item's key as a call site reads it: a literal as it is, else the strings it
    can be here (it may depend on this frame), else any key."""
    if isinstance(key, Lit):
        return key
    if strings:
        return one_of([Lit(k) for k in sorted(strings)])
    return Unknown("key not known here")


def _text_method(atom: Atom, method: str, call: Call) -> Atom:
    """`.lower()` and the like on one atom: constants change now, a parameter's value
    at each call site (an allow-list it was checked against is changed alike),
    unknowns stay unknown."""
    if atom.kind == "const":
        return replace(atom, value=getattr(atom.value, method)())
    if atom.kind == "param":
        applied = Call(Attr(open_expr(atom), method), (), (), call.site)
        allow = None
        if atom.allow is not None:
            allow = frozenset(getattr(value, method)() for value in atom.allow - atom.deny)
        return replace(atom, allow=allow, deny=frozenset(), expr=applied)
    return atom


def spelling(expr: Expr) -> str | None:
    """How the code spells an expression (`request.json`, `load(...)`), when it
    is a name, an attribute chain or a call of one."""
    if isinstance(expr, Param):
        return expr.name
    if isinstance(expr, Ref):
        return expr.qual.rsplit(".", 1)[-1]
    if isinstance(expr, Unknown):
        name = _UNRESOLVED_NAME.fullmatch(expr.reason)
        return name.group(1) if name else None
    if isinstance(expr, Narrowed):
        return spelling(expr.expr)
    if isinstance(expr, Attr | Call):
        base = spelling(expr.base if isinstance(expr, Attr) else expr.func)
        if base is None:
            return None
        return f"{base}.{expr.name}" if isinstance(expr, Attr) else f"{base}(...)"
    return None


def _returned(func: Expr) -> str:
    code = spelling(func)
    if code is None:
        return f"return value of a call of {describe(func)}"
    return f"return value of `{code}(...)`"


# The reason the interpreter gives a name it cannot resolve.
_UNRESOLVED_NAME = re.compile(r"name `(\w+)`")


def describe(expr: Expr) -> str:
    """A short phrase for an expression, for the reason of an unknown."""
    if isinstance(expr, Param):
        return f"parameter `{expr.name}`"
    code = spelling(expr)
    if code is not None:
        return f"`{code}`"
    if isinstance(expr, Attr):
        return f"attribute `.{expr.name}` of {describe(expr.base)}"
    if isinstance(expr, Call):
        return f"the result of {describe(expr.func)}"
    if isinstance(expr, Unknown):
        return expr.reason
    if isinstance(expr, Elem):
        return f"an element of {describe(expr.seq)}"
    if isinstance(expr, (Narrowed, Persisted, OnUnknownTable)):
        return describe(expr.expr)
    return "an expression"
