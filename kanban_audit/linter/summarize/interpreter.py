"""The per-function abstract interpreter: one walk over a body, in order.

Local variables map to symbolic values (values.py); guards narrow them on
each branch (guards.py); every call is recorded with the symbolic values of
its arguments, and calls that write to the database become sinks
(writes.py). Statements and expressions dispatch by node type, one method
per construct.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

import libcst as cst

from kanban_audit.linter.summarize import (
    correlated,
    decorators,
    dumps,
    guards,
    handlers,
    held,
    joins,
    loops,
    partials,
    patterns,
    saves,
    typehints,
)
from kanban_audit.linter.summarize.module import ModuleAnalyzer
from kanban_audit.linter.summarize.names import dotted, subject, target_names
from kanban_audit.linter.summarize.writes import form_write, recognise
from kanban_audit.linter.values import (
    SPREAD,
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
    Narrowed,
    Param,
    Ref,
    Seq,
    Sink,
    Site,
    Star,
    Stored,
    Unknown,
    one_of,
    spread_pair,
)

Env = dict[str, Expr]
Flow = tuple[Env, bool]  # the environment after a statement, and whether control left

EXITS = {"abort", "exit", "sys.exit", "os._exit", "quit"}
BUILTIN_NAMES = frozenset(dir(builtins))
ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "enum.Enum", "enum.StrEnum", "enum.IntEnum"}
_CONSTANTS = {"True": True, "False": False, "None": None}


def _opens_file(value: Expr) -> bool:
    """`open(path)` or `path.open()`: a context manager that is the file it opens."""
    if not isinstance(value, Call):
        return False
    func = value.func
    if isinstance(func, Ref):
        return func.qual in ("builtins.open", "io.open", "codecs.open")
    return isinstance(func, Attr) and func.name == "open"


# Names every module has of its own: `Path(__file__).parent` is the module's folder.
MODULE_DUNDERS = ("__file__", "__name__", "__package__")
_SET_MUTATIONS = {
    "add": "|",
    "discard": "-",
    "remove": "-",
    "difference_update": "-",
    "intersection_update": "&",
}
# The escapes of a string's text that SQL reads (a line break ends a `--` comment).
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "\n": ""}
_ESCAPE = re.compile(r"\\(.)", re.S)


def _unescaped(text: str) -> str:
    """An f-string's literal text as the string holds it (`\\n` a line break); other
    escapes stay as written."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


_OPERATORS = {
    cst.Add: "+",
    cst.Multiply: "*",
    cst.Modulo: "%",
    cst.BitOr: "|",
    cst.BitAnd: "&",
    cst.Subtract: "-",
}


def run_chunk(mod: ModuleAnalyzer, tree: cst.Module, env: Env) -> Env:
    """Interpret one chunk of a module (its top-level statements) from the module-level
    environment the chunks before it left; returns the environment after it."""
    chunk = mod.chunk
    fn = FunctionSummary(
        f"{mod.module}.<module>",
        (),
        {},
        0,
        Site(1, 0, 1),
        returns=chunk.returns,
        calls=chunk.calls,
        sinks=chunk.sinks,
    )
    after, _ = FunctionAnalyzer(mod, fn, {}, module_level=True).block(tree.body, env)
    return after


class FunctionAnalyzer:
    """Interprets one function body (or the module body, or a class body)."""

    def __init__(
        self,
        mod: ModuleAnalyzer,
        fn: FunctionSummary,
        closure: Env,
        module_level: bool = False,
        class_prefix: str = "",
    ) -> None:
        self.mod = mod
        self.fn = fn
        self.closure = closure
        self.module_level = module_level
        self.class_prefix = class_prefix
        self.stmt_line = fn.site.line
        self.local_imports: dict[str, str] = {}
        # Calls already recorded: a guard's test is read again on each branch.
        self.recorded: set[int] = set()
        # Per enclosing loop, the environments at its `break`s and `continue`s.
        self.exits: list[loops.Exits] = []
        # Per enclosing `try` body, where it may raise (handlers.py).
        self.raising: list[handlers.Raises] = []
        # The function's definition, and its field assignments no save writes
        # (saves.py, read at the first field assignment).
        self.definition: cst.FunctionDef | None = None
        self.unsaved: frozenset[int] | None = None
        # Values chosen by a test, for later tests of the same condition.
        self.choices = correlated.Choices()
        # The two sides of each conditional expression read, by node.
        self.sides: dict[int, tuple[Expr, Expr]] = {}

    # -- names -------------------------------------------------------------

    def lookup(self, name: str, env: Env) -> Expr:
        if name in env:
            return env[name]
        if name in self.closure:
            return self.closure[name]
        if name in self.local_imports:
            return Ref(self.local_imports[name])
        if name in self.mod.imports:
            return Ref(self.mod.imports[name])
        if name in self.mod.top_names:
            return Ref(f"{self.mod.module}.{name}")
        if name in _CONSTANTS:
            return Lit(_CONSTANTS[name])
        if name in MODULE_DUNDERS:  # the module's own: where it lies (solve/files.py)
            return Ref(f"{self.mod.module}.{name}")
        if name in BUILTIN_NAMES:
            return Ref(f"builtins.{name}")
        if self.mod.stars:  # may come from a star import: the resolver looks there
            return Ref(f"{self.mod.module}.{name}")
        return Unknown(f"name `{name}`")

    def qualified(self, name: str, env: Env) -> str | None:
        """The qualified name a dotted name written here denotes (a class raised or
        caught), None when it is not a name of a module."""
        first, _, rest = name.partition(".")
        base = self.lookup(first, env)
        if not isinstance(base, Ref):
            return None
        return f"{base.qual}.{rest}" if rest else base.qual

    # -- statements --------------------------------------------------------

    def block(self, body: Sequence[cst.CSTNode], env: Env) -> Flow:
        """Run statements in order; returns the env after and whether control left."""
        for stmt in body:
            env, left = self.statement(stmt, env)
            if left:
                return env, True
        return env, False

    def suite(self, suite: cst.BaseSuite, env: Env) -> Flow:
        if isinstance(suite, cst.SimpleStatementSuite):
            return self.simple_statements(suite.body, env)
        return self.block(suite.body, env)  # type: ignore[attr-defined]

    def statement(self, stmt: cst.CSTNode, env: Env) -> Flow:
        self.stmt_line = self.mod.line_of(stmt)
        if self.raising and not isinstance(stmt, cst.SimpleStatementLine):
            self.raising[-1].reach(handlers.may_raise(stmt), env)
        rule = _STATEMENTS.get(type(stmt))
        return rule(self, stmt, env) if rule else (env, False)

    def simple_line(self, stmt: cst.SimpleStatementLine, env: Env) -> Flow:
        return self.simple_statements(stmt.body, env)

    def simple_statements(self, body: Sequence[cst.BaseSmallStatement], env: Env) -> Flow:
        for small in body:
            if self.raising:
                self.raising[-1].reach(handlers.may_raise(small), env)
            rule = _SMALL_STATEMENTS.get(type(small))
            if rule is not None:
                env, left = rule(self, small, env)
                if left:
                    return env, True
        return env, False

    def assign_statement(self, small: cst.Assign, env: Env) -> Flow:
        before = dict(env) if isinstance(small.value, cst.IfExp) else env
        value = self.expr(small.value, env)
        for target in small.targets:
            self.assign(target.target, value, env)
        sides = self.sides.get(id(small.value))
        if sides is not None and len(small.targets) == 1:
            target = small.targets[0].target
            if isinstance(target, cst.Name):
                test = small.value.test  # type: ignore[attr-defined]
                self.choices.remember(test, before, target.value, value, sides)
        return env, False

    def annotated_assign(self, small: cst.AnnAssign, env: Env) -> Flow:
        if small.value is not None:
            self.assign(small.target, self.expr(small.value, env), env)
        return env, False

    def augmented_assign(self, small: cst.AugAssign, env: Env) -> Flow:
        op = {cst.AddAssign: "+", cst.MultiplyAssign: "*"}.get(type(small.operator))
        value = self.expr(small.value, env)
        current = self.expr(small.target, env)
        self.assign(small.target, BinOp(op, current, value) if op else Unknown("op"), env)
        return env, False

    def expression_statement(self, small: cst.Expr, env: Env) -> Flow:
        """Evaluate a bare expression; tracks list/dict mutation; leaves on exit()."""
        node = small.value
        self.expr(node, env)
        if not isinstance(node, cst.Call):
            return env, False
        func = node.func
        if isinstance(func, cst.Attribute):
            key = dotted(func.value)
            args = [self.expr(a.value, env) for a in node.args if not a.keyword]
            if isinstance(func.value, cst.Attribute) and args and func.attr.value in held.ADDERS:
                held.added(self, func.value, func.attr.value, args[0], env)
            elif key and key in env and args:
                before = env[key]
                self.mutate(key, func.attr.value, args[0], env)
                if env[key] is not before and key.isidentifier():
                    self.module_value(key, env[key])  # `ALLOWED.append(...)` at module level
        return env, dotted(func) in EXITS

    def mutate(self, key: str, method: str, arg: Expr, env: Env) -> None:
        """`xs.append(v)`, `xs.extend(vs)`, `d.update(...)` on a local literal;
        `d.pop("key")` on any dict (it no longer holds the key)."""
        current = env[key]
        if method == "pop" and isinstance(arg, Lit) and isinstance(arg.value, str):
            env[key] = Narrowed(current, None, Seq((arg,)))
        elif method == "append" and isinstance(current, Seq):
            env[key] = Seq(current.items + (arg,))
        elif method == "extend" and isinstance(current, Seq):
            env[key] = Seq(current.items + (Star(arg),))
        elif method == "update" and isinstance(current, DictLit):
            # Unknown keys may replace any entry: keep them as an unknown item.
            added = (
                arg.items
                if isinstance(arg, DictLit)
                else ((Unknown("keys added by update()"), Unknown("values added by update()")),)
            )
            env[key] = DictLit(current.items + added)
        elif method in _SET_MUTATIONS:
            self.mutate_set(key, method, arg, env)

    def mutate_set(self, key: str, method: str, arg: Expr, env: Env) -> None:
        """`allowed.add(v)`, `.discard(v)`, `.remove(v)`, `.difference_update(vs)`,
        `.intersection_update(vs)`: the set algebra they stand for (solve/sets.py)."""
        other = Seq((arg,)) if method in ("add", "discard", "remove") else arg
        env[key] = BinOp(_SET_MUTATIONS[method], env[key], other)

    def return_statement(self, small: cst.Return, env: Env) -> Flow:
        value = self.expr(small.value, env) if small.value else Lit(None)
        tested = guards.verdict(self, small.value, env) if small.value else None
        self.fn.returns.append(tested or guards.path_verdict(self, value, env) or value)
        return env, True

    def raise_statement(self, small: cst.Raise, env: Env) -> Flow:
        if small.exc:
            self.expr(small.exc, env)
        if self.raising:
            raised = handlers.raised_class(small, lambda name: self.qualified(name, env))
            self.raising[-1].points.append((raised, dict(env)))
        return env, True

    def jump(self, small: cst.Break | cst.Continue, env: Env) -> Flow:
        if self.exits:
            self.exits[-1].leave(small, env)
        return env, True

    def assert_statement(self, small: cst.Assert, env: Env) -> Flow:
        self.expr(small.test, env)
        return guards.apply(self, guards.facts(self, small.test)[0], env), False

    def import_statement(self, small: cst.Import | cst.ImportFrom, env: Env) -> Flow:
        if not self.module_level:
            self.mod.record_import(small, self.local_imports)
        return env, False

    def del_statement(self, small: cst.Del, env: Env) -> Flow:
        for name in target_names(small.target):
            env.pop(name, None)
        target = small.target
        if isinstance(target, cst.Subscript) and len(target.slice) == 1:
            key, index = dotted(target.value), target.slice[0].slice
            if key in env and isinstance(index, cst.Index):
                self.mutate(key, "pop", self.expr(index.value, env), env)  # type: ignore[arg-type]
        return env, False

    def assign(self, target: cst.BaseExpression, value: Expr, env: Env) -> None:
        if isinstance(target, cst.Name):
            name = target.value
            for key in [k for k in env if k.startswith((name + ".", name + "["))]:
                del env[key]
            env[name] = value
            self.module_value(name, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            if isinstance(value, Seq) and len(value.items) == len(elements):
                for element, item in zip(elements, value.items, strict=True):
                    self.assign(element.value, item, env)
            else:
                for i, element in enumerate(elements):
                    self.assign(element.value, Index(value, Lit(i)), env)
        elif isinstance(target, cst.Attribute):
            key = dotted(target)
            if key:
                env[key] = value
            self.store_attribute(target, value, env)
            self.field_write(target, value, env)
        elif isinstance(target, cst.Subscript) and len(target.slice) == 1:
            key = dotted(target.value)
            index = target.slice[0].slice
            if not isinstance(index, cst.Index):
                return
            if isinstance(target.value, cst.Attribute):
                held.item_set(self, target.value, self.expr(index.value, env), value, env)
            elif key and key in env and isinstance(env[key], DictLit):
                item = (self.expr(index.value, env), value)
                env[key] = DictLit(env[key].items + (item,))  # type: ignore[union-attr]

    def module_value(self, name: str, value: Expr) -> None:
        """One more value of a module's (or a class body's) name, for the functions
        that read it: every value it is given there, assigned or mutated."""
        if self.module_level or self.class_prefix:
            owner = self.class_prefix or self.mod.module
            self.mod.chunk.assigned.append((f"{owner}.{name}", value))

    def store_attribute(self, target: cst.Attribute, value: Expr, env: Env) -> None:
        """`self.x = value` in a method (or a function nested in one): one more value of
        the class's `x`, for every method that reads `self.x`."""
        if not isinstance(target.value, cst.Name):
            return
        receiver = self.lookup(target.value.value, env)
        if isinstance(receiver, Ref) and self.module_level:
            # `Cls.m = deco(Cls.m)`: the method decorated after its class (solve/decorators.py).
            name = f"{receiver.qual}.{target.attr.value}"
            if isinstance(value, Call) and value.args in (
                (Ref(name),),
                (Attr(receiver, target.attr.value),),
            ):
                self.mod.chunk.assigned.append((name, value))
            return
        cls = held.instance_class(self, target.value, env)
        if cls:
            attr = f"{target.value.value}.{target.attr.value}"
            site = self.mod.statement_site(self.stmt_line)
            stored = Stored(value, self.fn.qualname, attr, site)
            self.mod.chunk.assigned.append((f"{cls}.{target.attr.value}", stored))

    def field_write(self, target: cst.Attribute, value: Expr, env: Env) -> None:
        """`task.status = value`: a write of a model's field, if the solver finds the
        object is an instance of the tasks model (reported at the assignment)."""
        name = target.attr.value
        fields = self.mod.spellings.fields
        if name not in fields:
            return
        if self.unsaved is None and self.definition is not None:
            named = self.mod.saves_named
            self.unsaved = saves.unsaved(self.definition, fields) if named else frozenset()
        if self.unsaved and id(target) in self.unsaved:
            return
        instance = self.expr(target.value, env)
        site = self.mod.statement_site(self.stmt_line)
        record = DictLit(((Lit(name), value),))
        self.fn.sinks.append(Sink("orm", site, instance, Seq((record,)), "attribute"))

    def if_statement(self, node: cst.If, env: Env) -> Flow:
        self.stmt_line = self.mod.line_of(node)
        self.expr(node.test, env)
        when_true, when_false = guards.facts(self, node.test)
        chosen_true, chosen_false = self.choices.sides(node.test, env)
        start_true = guards.apply(self, when_true, {**env, **chosen_true})
        narrowed_true = {key: start_true[key] for key, *_ in when_true}
        env_true, left_true = self.suite(node.body, start_true)
        env_false = guards.apply(self, when_false, {**env, **chosen_false})
        narrowed_false = {key: env_false[key] for key, *_ in when_false}
        left_false = False
        if isinstance(node.orelse, cst.If):
            env_false, left_false = self.if_statement(node.orelse, env_false)
        elif isinstance(node.orelse, cst.Else):
            env_false, left_false = self.suite(node.orelse.body, env_false)
        if left_true and left_false:
            return env, True
        if left_true:
            return env_false, False
        if left_false:
            return env_true, False
        merged = merge([env_true, env_false])
        for key, value in narrowed_true.items():
            if (
                key in env
                and env_true.get(key) is value
                and env_false.get(key) is narrowed_false.get(key)
                and joins.complementary(env[key], value, narrowed_false[key])
            ):
                merged[key] = env[key]
        for name, value in merged.items():
            if name in env_true and name in env_false:
                sides = (env_true[name], env_false[name])
                self.choices.remember(node.test, env, name, value, sides)
        return merged, False

    def loop(self, node: cst.For | cst.While, env: Env) -> Flow:
        inner = dict(env)
        if isinstance(node, cst.For):
            iterable = self.expr(node.iter, env)
            self.assign(node.target, Elem(iterable), inner)
        else:
            self.expr(node.test, env)
            inner = guards.apply(self, guards.facts(self, node.test)[0], inner)
        exits = loops.Exits()
        self.exits.append(exits)
        try:
            after, _ = self.suite(node.body, inner)
        finally:
            self.exits.pop()
        if isinstance(node, cst.For):
            after = loops.per_element(env, after, iterable)
        merged = merge([env, after, *exits.continued])
        if node.orelse:
            merged, _ = self.suite(node.orelse.body, merged)
        return merge([merged, *exits.broken]), False

    def try_statement(self, node: cst.Try | cst.TryStar, env: Env) -> Flow:
        """The body; each handler from the states that raise into it; `else` after a body
        that raised nothing; `finally` on every path (handlers.py)."""
        raised = self.collecting(handlers.Raises())
        try:
            after, left = self.suite(node.body, dict(env))
        finally:
            self.raising.pop()
        qualify = lambda name: self.qualified(name, env)  # noqa: E731
        escaping = self.collecting(
            handlers.Raises(list(raised.uncaught(node.handlers, env, qualify)))
        )
        try:
            if node.orelse and not left:
                after, left = self.suite(node.orelse.body, after)
            outcomes = [] if left else [after]
            for handler in node.handlers:
                entries = raised.caught_by(handler, env, qualify)
                if not entries:
                    continue  # nothing the body raises is caught here
                start = dict(merge(entries))
                if handler.name:
                    self.assign(handler.name.name, Unknown("exception"), start)
                handled, handler_left = self.suite(handler.body, start)
                if not handler_left:
                    outcomes.append(handled)
        finally:
            self.raising.pop()
        if self.raising:
            self.raising[-1].points += escaping.points
        result = merge(outcomes) if outcomes else env
        if not node.finalbody:
            return result, not outcomes
        every_exit = [*outcomes, *(state for _, state in escaping.points)]
        if len(every_exit) > len(outcomes) or not outcomes:
            # The writes in `finally` see every way out, raising ones included.
            self.suite(node.finalbody.body, dict(merge(every_exit)) if every_exit else dict(env))
        if not outcomes:
            return env, True
        return self.suite(node.finalbody.body, result)

    def collecting(self, raises: handlers.Raises) -> handlers.Raises:
        self.raising.append(raises)
        return raises

    def with_statement(self, node: cst.With, env: Env) -> Flow:
        inner = dict(env)
        for item in node.items:
            entered = self.expr(item.item, inner)
            if item.asname:
                # An open file is itself (`with open(p) as f: f.read()`); else not known.
                value = entered if _opens_file(entered) else Unknown("context manager")
                self.assign(item.asname.name, value, inner)
        return self.suite(node.body, inner)

    def match_statement(self, node: cst.Match, env: Env) -> Flow:
        """Each case from what the cases before it left unmatched (patterns.py)."""
        current = self.expr(node.subject, env)
        rest: Env | None = env
        outcomes: list[Env] = []
        for case in node.cases:
            if rest is None:
                break
            split = patterns.split(self, case, node.subject, rest, current)
            after, left = self.suite(case.body, split.matched)
            if not left:
                outcomes.append(after)
            rest, current = split.unmatched, split.rest
        if rest is not None:
            outcomes.append(rest)
        return (merge(outcomes), False) if outcomes else (env, True)

    def function_def(self, node: cst.FunctionDef, env: Env) -> Flow:
        prefix = self.class_prefix or (self.mod.module if self.module_level else self.fn.qualname)
        qualname = f"{prefix}.{node.name.value}"
        plain = {dotted(d.decorator) for d in node.decorators}
        params = node.params
        ordered = [*params.posonly_params, *params.params, *params.kwonly_params]
        names = tuple(p.name.value for p in ordered)
        bound = 1 if self.class_prefix and "staticmethod" not in plain and names else 0
        defaults: dict[str, Expr] = {}
        for p in ordered:
            if p.default is not None:
                defaults[p.name.value] = self.expr(p.default, env)
        line = self.mod.line_of(node)
        fn = FunctionSummary(
            qualname,
            names,
            defaults,
            bound,
            Site(line, 0, line, self.mod.text(line), line),
            class_name=self.class_prefix,
            annotations=typehints.parameter_annotations(self, ordered, env),
            decorators=decorators.decorator_values(self, node, env),
            kwonly=len(params.kwonly_params),
        )
        self.mod.chunk.functions[qualname] = fn
        local: Env = {name: Param(qualname, name) for name in names}
        if isinstance(params.star_arg, cst.Param):
            name = params.star_arg.name.value
            local[name] = decorators.star_parameter(qualname, name)
        if isinstance(params.star_kwarg, cst.Param):
            # The keywords of each call that no other parameter takes (solve: argument()).
            name = params.star_kwarg.name.value
            local[name] = Param(qualname, SPREAD + name)
        closure = {} if self.module_level or self.class_prefix else {**self.closure, **env}
        analyzer = FunctionAnalyzer(self.mod, fn, closure)
        analyzer.definition = node
        analyzer.suite(node.body, local)
        env[node.name.value] = Ref(qualname)  # in a class body: for partialmethod(...)
        return env, False

    def class_def(self, node: cst.ClassDef, env: Env) -> Flow:
        prefix = self.class_prefix or (self.mod.module if self.module_level else self.fn.qualname)
        qualname = f"{prefix}.{node.name.value}"
        bases = tuple(self.expr(arg.value, env) for arg in node.bases if not arg.keyword)
        base_names = {dotted(arg.value) for arg in node.bases}
        methods = tuple(
            stmt.name.value for stmt in node.body.body if isinstance(stmt, cst.FunctionDef)
        )
        self.mod.chunk.classes[qualname] = ClassSummary(
            qualname,
            bases,
            bool(base_names & ENUM_BASES),
            methods,
            typehints.class_fields(self, node),
            typehints.is_dataclass(node),
            tuple((a.keyword.value, self.expr(a.value, env)) for a in node.keywords if a.keyword),
        )
        FunctionAnalyzer(self.mod, self.fn, {}, class_prefix=qualname).suite(node.body, {})
        line = self.mod.line_of(node)
        registered = [
            self.expr(d.decorator.args[0].value, env)
            for d in node.decorators
            if isinstance(d.decorator, cst.Call) and d.decorator.args
        ]
        site = Site(line, 0, line, self.mod.text(line), line)
        sink = form_write(qualname, bases, registered, site, self.mod.spellings)
        if sink is not None:
            self.fn.sinks.append(sink)
        if self.class_prefix:  # a nested class, named in the rest of its class's body
            env[node.name.value] = Ref(qualname)
        return env, False

    # -- expressions ---------------------------------------------------------

    def expr(self, node: cst.BaseExpression | None, env: Env) -> Expr:
        if node is None:
            return Lit(None)
        rule = _EXPRESSIONS.get(type(node))
        return rule(self, node, env) if rule else Unknown(type(node).__name__)

    def name(self, node: cst.Name, env: Env) -> Expr:
        return self.lookup(node.value, env)

    def simple_string(self, node: cst.SimpleString, env: Env) -> Expr:
        value = node.evaluated_value
        return Lit(value) if isinstance(value, str) else Unknown("bytes")

    def number(self, node: cst.Integer | cst.Float, env: Env) -> Expr:
        return Lit(node.evaluated_value)

    def concatenated_string(self, node: cst.ConcatenatedString, env: Env) -> Expr:
        # Adjacent strings nest to the right: walk the chain, not the recursion.
        parts: list[Expr] = []
        current: cst.BaseExpression = node
        while isinstance(current, cst.ConcatenatedString):
            parts.append(self.expr(current.left, env))
            current = current.right
        parts.append(self.expr(current, env))
        return Concat(tuple(p for part in parts for p in _parts(part)))

    def formatted_string(self, node: cst.FormattedString, env: Env) -> Expr:
        parts: list[Expr] = []
        raw = "r" in node.prefix.lower()
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                text = part.value.replace("{{", "{").replace("}}", "}")
                parts.append(Lit(text if raw else _unescaped(text)))
            elif isinstance(part, cst.FormattedStringExpression):
                parts.append(self.expr(part.expression, env))
        return Concat(tuple(parts))

    def attribute(self, node: cst.Attribute, env: Env) -> Expr:
        key = subject(node)
        if key and key in env:
            return env[key]
        base = self.expr(node.value, env)
        if isinstance(base, Ref):
            return Ref(f"{base.qual}.{node.attr.value}")
        return Attr(base, node.attr.value)

    def subscript(self, node: cst.Subscript, env: Env) -> Expr:
        key = subject(node)
        if key and key in env:
            return env[key]
        base = self.expr(node.value, env)
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            return Index(base, self.expr(node.slice[0].slice.value, env))
        for element in node.slice:
            if isinstance(element.slice, cst.Index):
                self.expr(element.slice.value, env)
        return Unknown("slice")

    def binary_operation(self, node: cst.BinaryOperation, env: Env) -> Expr:
        left = self.expr(node.left, env)
        right = self.expr(node.right, env)
        op = _OPERATORS.get(type(node.operator))
        if isinstance(node.operator, cst.Divide):  # a path joined (`folder / "x.sql"`)
            site = self.mod.statement_site(self.stmt_line)
            return Call(Ref("operator.truediv"), (left, right), (), site)
        if op is None:
            return Unknown("arithmetic")
        if op == "+" and (
            (isinstance(left, Concat) and isinstance(right, Concat | Lit))
            or (isinstance(right, Concat) and isinstance(left, Lit))
        ):
            return Concat(_parts(left) + _parts(right))
        return BinOp(op, left, right)

    def if_expression(self, node: cst.IfExp, env: Env) -> Expr:
        self.expr(node.test, env)
        when_true, when_false = guards.facts(self, node.test)
        chosen_true, chosen_false = self.choices.sides(node.test, env)
        body = self.expr(node.body, guards.apply(self, when_true, {**env, **chosen_true}))
        orelse = self.expr(node.orelse, guards.apply(self, when_false, {**env, **chosen_false}))
        self.sides[id(node)] = (body, orelse)
        return one_of([body, orelse])

    def boolean_operation(self, node: cst.BooleanOperation, env: Env) -> Expr:
        return one_of([self.expr(node.left, env), self.expr(node.right, env)])

    def sequence(self, node: cst.Tuple | cst.List | cst.Set, env: Env) -> Expr:
        items: list[Expr] = []
        for element in node.elements:
            value = self.expr(element.value, env)
            items.append(Star(value) if isinstance(element, cst.StarredElement) else value)
        return Seq(tuple(items))

    def dictionary(self, node: cst.Dict, env: Env) -> Expr:
        pairs: list[tuple[Expr, Expr]] = []
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                pairs.append((self.expr(element.key, env), self.expr(element.value, env)))
            else:
                pairs.append(spread_pair(self.expr(element.value, env)))
        return DictLit(tuple(pairs))

    def lambda_expression(self, node: cst.Lambda, env: Env) -> Expr:
        inner = dict(env)
        for p in [*node.params.params, *node.params.kwonly_params]:
            inner[p.name.value] = Unknown("lambda parameter")
        return Lambda(self.expr(node.body, inner))

    def comprehension(self, node: cst.BaseComp | cst.DictComp, env: Env) -> Expr:
        inner = dict(env)
        clause: cst.CompFor | None = node.for_in
        iterables: list[Expr] = []
        targets: list[str] = []
        while clause is not None:
            iterables.append(self.expr(clause.iter, inner))
            self.assign(clause.target, Elem(iterables[-1]), inner)
            targets += target_names(clause.target)
            for condition in clause.ifs:
                self.expr(condition.test, inner)
                inner = guards.apply(self, guards.facts(self, condition.test)[0], inner)
            clause = clause.inner_for_in
        keep = tuple(inner[name] for name in targets if isinstance(inner.get(name), Narrowed))
        over = iterables[0] if len(iterables) == 1 else None
        if isinstance(node, cst.DictComp):
            pair = (self.expr(node.key, inner), self.expr(node.value, inner))
            return DictLit((pair,), Comp(Seq(pair), over, keep))
        return Comp(self.expr(node.elt, inner), over, keep)  # type: ignore[attr-defined]

    def await_expression(self, node: cst.Await, env: Env) -> Expr:
        return self.expr(node.expression, env)

    def named_expression(self, node: cst.NamedExpr, env: Env) -> Expr:
        value = self.expr(node.value, env)
        self.assign(node.target, value, env)
        return value

    def unary_operation(self, node: cst.UnaryOperation, env: Env) -> Expr:
        self.expr(node.expression, env)
        return Unknown("operator")

    def comparison(self, node: cst.Comparison, env: Env) -> Expr:
        self.expr(node.left, env)
        for comparison in node.comparisons:
            self.expr(comparison.comparator, env)
        return Unknown("comparison")

    def call_value(self, node: cst.Call, env: Env) -> Call:
        """A call as a value: what it calls, what it passes and where (not recorded
        among the function's calls)."""
        func = self.expr(node.func, env)
        args: list[Expr] = []
        kwargs: list[tuple[str, Expr]] = []
        spread = False
        for arg in node.args:
            value = self.expr(arg.value, env)
            if not arg.star:  # an instance passed on carries its fields as set here
                value = dumps.refined(arg.value, value, env)
            if arg.star:
                spread = True
                if arg.star == "*":
                    args.append(Star(value))
                else:
                    kwargs.append((SPREAD, value))
            elif arg.keyword is not None:
                kwargs.append((arg.keyword.value, value))
            else:
                args.append(value)
        site = self.mod.call_site(node, self.stmt_line)
        return Call(func, tuple(args), tuple(kwargs), site, spread)

    def call(self, node: cst.Call, env: Env) -> Expr:
        value = self.call_value(node, env)
        func = dumps.refine(node, value.func, env)
        call = partials.through_partial(func, replace(value, func=func))
        if id(node) in self.recorded:
            return joins.text_method(call)
        self.recorded.add(id(node))
        self.fn.calls.append(call)
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
        sink = recognise(method, func, call, self.mod.spellings)
        if sink is not None:
            self.fn.sinks.append(sink)
        return joins.text_method(call)


Rule = Callable[..., Flow]
_STATEMENTS: dict[type, Rule] = {
    cst.SimpleStatementLine: FunctionAnalyzer.simple_line,
    cst.If: FunctionAnalyzer.if_statement,
    cst.FunctionDef: FunctionAnalyzer.function_def,
    cst.ClassDef: FunctionAnalyzer.class_def,
    cst.For: FunctionAnalyzer.loop,
    cst.While: FunctionAnalyzer.loop,
    cst.Try: FunctionAnalyzer.try_statement,
    cst.TryStar: FunctionAnalyzer.try_statement,
    cst.With: FunctionAnalyzer.with_statement,
    cst.Match: FunctionAnalyzer.match_statement,
}
_SMALL_STATEMENTS: dict[type, Rule] = {
    cst.Assign: FunctionAnalyzer.assign_statement,
    cst.AnnAssign: FunctionAnalyzer.annotated_assign,
    cst.AugAssign: FunctionAnalyzer.augmented_assign,
    cst.Expr: FunctionAnalyzer.expression_statement,
    cst.Return: FunctionAnalyzer.return_statement,
    cst.Raise: FunctionAnalyzer.raise_statement,
    cst.Continue: FunctionAnalyzer.jump,
    cst.Break: FunctionAnalyzer.jump,
    cst.Assert: FunctionAnalyzer.assert_statement,
    cst.Import: FunctionAnalyzer.import_statement,
    cst.ImportFrom: FunctionAnalyzer.import_statement,
    cst.Del: FunctionAnalyzer.del_statement,
}
_EXPRESSIONS: dict[type, Callable[..., Expr]] = {
    cst.Name: FunctionAnalyzer.name,
    cst.SimpleString: FunctionAnalyzer.simple_string,
    cst.Integer: FunctionAnalyzer.number,
    cst.Float: FunctionAnalyzer.number,
    cst.ConcatenatedString: FunctionAnalyzer.concatenated_string,
    cst.FormattedString: FunctionAnalyzer.formatted_string,
    cst.Attribute: FunctionAnalyzer.attribute,
    cst.Subscript: FunctionAnalyzer.subscript,
    cst.Call: FunctionAnalyzer.call,
    cst.BinaryOperation: FunctionAnalyzer.binary_operation,
    cst.IfExp: FunctionAnalyzer.if_expression,
    cst.BooleanOperation: FunctionAnalyzer.boolean_operation,
    cst.Tuple: FunctionAnalyzer.sequence,
    cst.List: FunctionAnalyzer.sequence,
    cst.Set: FunctionAnalyzer.sequence,
    cst.Dict: FunctionAnalyzer.dictionary,
    cst.Lambda: FunctionAnalyzer.lambda_expression,
    cst.ListComp: FunctionAnalyzer.comprehension,
    cst.GeneratorExp: FunctionAnalyzer.comprehension,
    cst.SetComp: FunctionAnalyzer.comprehension,
    cst.DictComp: FunctionAnalyzer.comprehension,
    cst.Await: FunctionAnalyzer.await_expression,
    cst.NamedExpr: FunctionAnalyzer.named_expression,
    cst.UnaryOperation: FunctionAnalyzer.unary_operation,
    cst.Comparison: FunctionAnalyzer.comparison,
}


def _parts(value: Expr) -> tuple[Expr, ...]:
    return value.parts if isinstance(value, Concat) else (value,)


def merge(envs: list[Env]) -> Env:
    """Join variable values from branches that meet again."""
    if len(envs) == 1:
        return envs[0]
    merged: Env = {}
    for env in envs:
        for key, value in env.items():
            if key not in merged:
                merged[key] = value
            elif merged[key] != value:
                merged[key] = joins.joined(merged[key], value)
    for key in [k for k in merged if "." in k and any(k not in env for env in envs)]:
        _field_on_some(key, envs, merged)
    return merged


def _field_on_some(key: str, envs: list[Env], merged: Env) -> None:
    """A field set or narrowed on some branches only (`if requeue: job.status = ...`)
    is, after them, that value or the field as the object holds it; when that cannot
    be said (a longer key, an object not named here), the field is not known here."""
    name, _, field = key.partition(".")
    values = [merged[key]]
    for env in envs:
        if key not in env:
            if name not in env or not field.isidentifier():
                del merged[key]
                return
            values.append(Attr(env[name], field))
    merged[key] = one_of(values)
