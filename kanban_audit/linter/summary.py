"""The per-file pass: one LibCST parse -> a picklable ModuleSummary.

The pass walks each function body once, in order, as a tiny abstract
interpreter: local variables map to symbolic values (values.py), guards narrow
them on each branch, and every call and every database write is recorded with
the symbolic values of its arguments. Nothing here looks at other files; the
solver joins the summaries.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

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
    Param,
    Ref,
    Seq,
    Sink,
    Site,
    Star,
    Unknown,
    one_of,
)

Env = dict[str, Expr]
# A guard's effect on one variable: (key, node, allow, deny).
Fact = tuple[str, cst.BaseExpression, Expr | None, Expr | None]

TABLE_METHODS = {
    "update": ("updates", 1),
    "insert": ("record", 0),
    "upsert": ("record", 0),
    "insert_all": ("records", 0),
    "upsert_all": ("records", 0),
}
SQL_PARAM_KEYWORDS = ("parameters", "params", "parameters_", "args")
EXITS = {"abort", "exit", "sys.exit", "os._exit", "quit"}
BUILTIN_NAMES = frozenset(dir(builtins))
ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "enum.Enum", "enum.StrEnum", "enum.IntEnum"}


def summarize(source: bytes, path: str, module: str, sql_methods: Sequence[str]) -> ModuleSummary:
    """Parse one file and summarise it; raises on syntax errors (the caller reports)."""
    tree = cst.parse_module(source)
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    lines = tree.code.splitlines()
    return _ModuleAnalyzer(module, path, positions, lines, frozenset(sql_methods)).run(tree)


def _dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of plain names, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _subject(node: cst.BaseExpression) -> str | None:
    """A key for a value a guard can narrow: `s`, `body.status`, `body["status"]`."""
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        base = _subject(node.value)
        if base and isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            return f"{base}[{index.value.value}]"
        return None
    if isinstance(node, cst.Attribute):
        base = _subject(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return _dotted(node)


def _import_target(module: str, node: cst.ImportFrom, is_package: bool) -> str:
    base = _dotted(node.module) if node.module else ""
    if not node.relative:
        return base or ""
    parts = module.split(".")
    up = len(node.relative) - (1 if is_package else 0)
    anchor = parts[: len(parts) - up] if up else parts
    return ".".join([*anchor, base] if base else anchor)


class _ModuleAnalyzer:
    def __init__(
        self,
        module: str,
        path: str,
        positions: dict[cst.CSTNode, CodeRange],
        lines: list[str],
        sql_methods: frozenset[str],
    ) -> None:
        self.summary = ModuleSummary(module=module, path=path)
        self.module = module
        self.is_package = path.endswith("__init__.py")
        self.positions = positions
        self.lines = lines
        self.sql_methods = sql_methods
        self.top_names: set[str] = set()

    # -- entry -------------------------------------------------------------

    def run(self, tree: cst.Module) -> ModuleSummary:
        for stmt in tree.body:
            self._collect_top(stmt)
        fn = FunctionSummary(f"{self.module}.<module>", (), {}, 0, Site(1, 0, 1))
        self.summary.functions[fn.qualname] = fn
        _FunctionAnalyzer(self, fn, {}, module_level=True).block(tree.body, {})
        return self.summary

    def _collect_top(self, stmt: cst.CSTNode) -> None:
        """Names defined at module level, including under if/try (for Ref resolution)."""
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            self.top_names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                    targets = (
                        [t.target for t in small.targets]
                        if isinstance(small, cst.Assign)
                        else [small.target]
                    )
                    for target in targets:
                        for name in _target_names(target):
                            self.top_names.add(name)
                elif isinstance(small, (cst.Import, cst.ImportFrom)):
                    self.record_import(small, self.summary.imports)
        elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
            for child in stmt.children:
                if isinstance(child, cst.BaseSuite):
                    for inner in child.body:
                        self._collect_top(inner)
                elif isinstance(child, (cst.If, cst.Else, cst.ExceptHandler, cst.Finally)):
                    self._collect_top(child)
        elif isinstance(stmt, (cst.Else, cst.ExceptHandler, cst.Finally)):
            for inner in stmt.body.body:
                self._collect_top(inner)

    def record_import(self, node: cst.Import | cst.ImportFrom, into: dict[str, str]) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _dotted(alias.name) or ""
                if alias.asname:
                    into[alias.asname.name.value] = full  # type: ignore[union-attr]
                else:
                    into[full.split(".")[0]] = full.split(".")[0]
            return
        base = _import_target(self.module, node, self.is_package)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = _dotted(alias.name) or ""
            local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
            into[local] = f"{base}.{name}" if base else name

    def site(self, node: cst.CSTNode, stmt_line: int) -> Site:
        where = self.positions[node]
        text = self.lines[stmt_line - 1].strip() if 0 < stmt_line <= len(self.lines) else ""
        return Site(where.start.line, where.start.column, stmt_line, text, where.end.line)

    def line_of(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line


def _target_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _target_names(el.value)]
    return []


class _FunctionAnalyzer:
    """Interprets one function body (or the module body, or a class body)."""

    def __init__(
        self,
        mod: _ModuleAnalyzer,
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

    # -- names -------------------------------------------------------------

    def lookup(self, name: str, env: Env) -> Expr:
        if name in env:
            return env[name]
        if name in self.closure:
            return self.closure[name]
        if name in self.local_imports:
            return Ref(self.local_imports[name])
        if name in self.mod.summary.imports:
            return Ref(self.mod.summary.imports[name])
        if name in self.mod.top_names:
            return Ref(f"{self.mod.module}.{name}")
        if name in ("True", "False", "None"):
            return Lit({"True": True, "False": False, "None": None}[name])
        if name in BUILTIN_NAMES:
            return Ref(f"builtins.{name}")
        return Unknown(f"name `{name}`")

    # -- statements --------------------------------------------------------

    def block(self, body: Sequence[cst.CSTNode], env: Env) -> tuple[Env, bool]:
        """Run statements in order; returns the env after and whether control left."""
        for stmt in body:
            env, left = self.statement(stmt, env)
            if left:
                return env, True
        return env, False

    def suite(self, suite: cst.BaseSuite, env: Env) -> tuple[Env, bool]:
        if isinstance(suite, cst.SimpleStatementSuite):
            return self.simple_statements(suite.body, env)
        return self.block(suite.body, env)  # type: ignore[attr-defined]

    def statement(self, stmt: cst.CSTNode, env: Env) -> tuple[Env, bool]:
        self.stmt_line = self.mod.line_of(stmt)
        if isinstance(stmt, cst.SimpleStatementLine):
            return self.simple_statements(stmt.body, env)
        if isinstance(stmt, cst.If):
            return self.if_statement(stmt, env)
        if isinstance(stmt, cst.FunctionDef):
            return self.function_def(stmt, env), False
        if isinstance(stmt, cst.ClassDef):
            self.class_def(stmt, env)
            return env, False
        if isinstance(stmt, (cst.For, cst.While)):
            return self.loop(stmt, env), False
        if isinstance(stmt, cst.Try | cst.TryStar):
            return self.try_statement(stmt, env)
        if isinstance(stmt, cst.With):
            inner = dict(env)
            for item in stmt.items:
                self.expr(item.item, inner)
                if item.asname:
                    self.assign(item.asname.name, Unknown("context manager"), inner)
            return self.suite(stmt.body, inner)
        if isinstance(stmt, cst.Match):
            self.expr(stmt.subject, env)
            results = [self.suite(case.body, dict(env)) for case in stmt.cases]
            return _merge([env] + [e for e, left in results if not left]), False
        return env, False

    def simple_statements(
        self, body: Sequence[cst.BaseSmallStatement], env: Env
    ) -> tuple[Env, bool]:
        for small in body:
            if isinstance(small, cst.Assign):
                value = self.expr(small.value, env)
                for target in small.targets:
                    self.assign(target.target, value, env)
            elif isinstance(small, cst.AnnAssign):
                if small.value is not None:
                    self.assign(small.target, self.expr(small.value, env), env)
            elif isinstance(small, cst.AugAssign):
                op = {cst.AddAssign: "+", cst.MultiplyAssign: "*"}.get(type(small.operator))
                value = self.expr(small.value, env)
                current = self.expr(small.target, env)
                self.assign(small.target, BinOp(op, current, value) if op else Unknown("op"), env)
            elif isinstance(small, cst.Expr):
                if self.expression_statement(small.value, env):
                    return env, True
            elif isinstance(small, cst.Return):
                value = self.expr(small.value, env) if small.value else Lit(None)
                self.fn.returns.append(value)
                return env, True
            elif isinstance(small, cst.Raise):
                if small.exc:
                    self.expr(small.exc, env)
                return env, True
            elif isinstance(small, (cst.Continue, cst.Break)):
                return env, True
            elif isinstance(small, cst.Assert):
                self.expr(small.test, env)
                env = self.apply(self.facts(small.test)[0], env)
            elif isinstance(small, (cst.Import, cst.ImportFrom)):
                if not self.module_level:
                    self.mod.record_import(small, self.local_imports)
            elif isinstance(small, cst.Del):
                for name in _target_names(small.target):
                    env.pop(name, None)
        return env, False

    def expression_statement(self, node: cst.BaseExpression, env: Env) -> bool:
        """Evaluate a bare expression; tracks list/dict mutation; True if it exits."""
        self.expr(node, env)
        if not isinstance(node, cst.Call):
            return False
        func = node.func
        if isinstance(func, cst.Attribute):
            key = _dotted(func.value)
            method = func.attr.value
            args = [self.expr(a.value, env) for a in node.args if not a.keyword]
            if key and key in env and args:
                current = env[key]
                if method == "append" and isinstance(current, Seq):
                    env[key] = Seq(current.items + (args[0],))
                elif method == "extend" and isinstance(current, Seq):
                    env[key] = Seq(current.items + (Star(args[0]),))
                elif method == "update" and isinstance(current, DictLit):
                    # Unknown keys may replace any entry: keep them as an unknown item.
                    added = (
                        args[0].items
                        if isinstance(args[0], DictLit)
                        else (
                            (
                                Unknown("keys added by update()"),
                                Unknown("values added by update()"),
                            ),
                        )
                    )
                    env[key] = DictLit(current.items + added)
        name = _dotted(func)
        return name in EXITS

    def assign(self, target: cst.BaseExpression, value: Expr, env: Env) -> None:
        if isinstance(target, cst.Name):
            name = target.value
            for key in [k for k in env if k.startswith((name + ".", name + "["))]:
                del env[key]
            env[name] = value
            if self.module_level or self.class_prefix:
                qual = f"{self.class_prefix or self.mod.module}.{name}"
                old = self.mod.summary.globals.get(qual)
                self.mod.summary.globals[qual] = one_of([old, value]) if old else value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            if isinstance(value, Seq) and len(value.items) == len(elements):
                for element, item in zip(elements, value.items, strict=True):
                    self.assign(element.value, item, env)
            else:
                for i, element in enumerate(elements):
                    self.assign(element.value, Index(value, Lit(i)), env)
        elif isinstance(target, cst.Attribute):
            key = _dotted(target)
            if key:
                env[key] = value
        elif isinstance(target, cst.Subscript):
            key = _dotted(target.value)
            if key and key in env and isinstance(env[key], DictLit) and len(target.slice) == 1:
                index = target.slice[0].slice
                if isinstance(index, cst.Index):
                    item = (self.expr(index.value, env), value)
                    env[key] = DictLit(env[key].items + (item,))  # type: ignore[union-attr]

    def if_statement(self, node: cst.If, env: Env) -> tuple[Env, bool]:
        self.stmt_line = self.mod.line_of(node)
        self.expr(node.test, env)
        when_true, when_false = self.facts(node.test)
        env_true, left_true = self.suite(node.body, self.apply(when_true, dict(env)))
        env_false = self.apply(when_false, dict(env))
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
        return _merge([env_true, env_false]), False

    def loop(self, node: cst.For | cst.While, env: Env) -> Env:
        inner = dict(env)
        if isinstance(node, cst.For):
            self.assign(node.target, Elem(self.expr(node.iter, env)), inner)
        else:
            self.expr(node.test, env)
            inner = self.apply(self.facts(node.test)[0], inner)
        after, _ = self.suite(node.body, inner)
        merged = _merge([env, after])
        if node.orelse:
            merged, _ = self.suite(node.orelse.body, merged)
        return merged

    def try_statement(self, node: cst.Try | cst.TryStar, env: Env) -> tuple[Env, bool]:
        after_body, left = self.suite(node.body, dict(env))
        outcomes = [] if left else [after_body]
        for handler in node.handlers:
            start = _merge([env, after_body])
            if handler.name:
                self.assign(handler.name.name, Unknown("exception"), start)
            handled, handler_left = self.suite(handler.body, start)
            if not handler_left:
                outcomes.append(handled)
        if node.orelse and not left:
            outcomes[0], _ = self.suite(node.orelse.body, outcomes[0])
        result = _merge(outcomes) if outcomes else env
        if node.finalbody:
            result, _ = self.suite(node.finalbody.body, result)
        return result, not outcomes

    def function_def(self, node: cst.FunctionDef, env: Env) -> Env:
        prefix = self.class_prefix or (self.mod.module if self.module_level else self.fn.qualname)
        qualname = f"{prefix}.{node.name.value}"
        decorators = {_dotted(d.decorator) for d in node.decorators}
        params = node.params
        ordered = [*params.posonly_params, *params.params, *params.kwonly_params]
        names = tuple(p.name.value for p in ordered)
        bound = 1 if self.class_prefix and "staticmethod" not in decorators and names else 0
        defaults: dict[str, Expr] = {}
        for p in ordered:
            if p.default is not None:
                defaults[p.name.value] = self.expr(p.default, env)
        fn = FunctionSummary(
            qualname,
            names,
            defaults,
            bound,
            self.mod.site(node.name, self.mod.line_of(node)),
            class_name=self.class_prefix,
        )
        self.mod.summary.functions[qualname] = fn
        local: Env = {name: Param(qualname, name) for name in names}
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                local[star.name.value] = Unknown(f"*{star.name.value}")
        closure = {} if self.module_level or self.class_prefix else {**self.closure, **env}
        analyzer = _FunctionAnalyzer(self.mod, fn, closure)
        analyzer.suite(node.body, local)
        if not self.class_prefix:
            env[node.name.value] = Ref(qualname)
        return env

    def class_def(self, node: cst.ClassDef, env: Env) -> None:
        prefix = self.class_prefix or (self.mod.module if self.module_level else self.fn.qualname)
        qualname = f"{prefix}.{node.name.value}"
        bases = tuple(self.expr(arg.value, env) for arg in node.bases if not arg.keyword)
        base_names = {_dotted(arg.value) for arg in node.bases}
        methods = tuple(
            stmt.name.value for stmt in node.body.body if isinstance(stmt, cst.FunctionDef)
        )
        self.mod.summary.classes[qualname] = ClassSummary(
            qualname, bases, bool(base_names & ENUM_BASES), methods
        )
        body = _FunctionAnalyzer(self.mod, self.fn, {}, class_prefix=qualname)
        body.suite(node.body, {})

    # -- guards --------------------------------------------------------------

    def facts(self, test: cst.BaseExpression) -> tuple[list[Fact], list[Fact]]:
        """What a test proves on its true and on its false branch."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            when_true, when_false = self.facts(test.expression)
            return when_false, when_true
        if isinstance(test, cst.BooleanOperation):
            left_t, left_f = self.facts(test.left)
            right_t, right_f = self.facts(test.right)
            if isinstance(test.operator, cst.And):
                return left_t + right_t, []
            return [], left_f + right_f
        if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
            return [], []
        target = test.comparisons[0]
        op, left, right = target.operator, test.left, target.comparator
        if isinstance(op, (cst.Equal, cst.NotEqual)):
            subject, other = (left, right) if _subject(left) else (right, left)
            key = _subject(subject)
            if key is None or _subject(other) == key:
                return [], []
            value = Seq((self.expr(other, {}),))
            fact_in = [(key, subject, value, None)]
            fact_out = [(key, subject, None, value)]
            return (fact_in, fact_out) if isinstance(op, cst.Equal) else (fact_out, fact_in)
        if isinstance(op, (cst.In, cst.NotIn)):
            key = _subject(left)
            if key is None:
                return [], []
            container = self.expr(right, {})
            fact_in = [(key, left, container, None)]
            fact_out = [(key, left, None, container)]
            return (fact_in, fact_out) if isinstance(op, cst.In) else (fact_out, fact_in)
        return [], []

    def apply(self, facts: list[Fact], env: Env) -> Env:
        for key, node, allow, deny in facts:
            env[key] = Narrowed(self.expr(node, env), allow, deny)
        return env

    # -- expressions ---------------------------------------------------------

    def expr(self, node: cst.BaseExpression | None, env: Env) -> Expr:
        if node is None:
            return Lit(None)
        if isinstance(node, cst.Name):
            return self.lookup(node.value, env)
        if isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            return Lit(value) if isinstance(value, str) else Unknown("bytes")
        if isinstance(node, (cst.Integer, cst.Float)):
            return Lit(node.evaluated_value)
        if isinstance(node, cst.ConcatenatedString):
            # Adjacent strings nest to the right: walk the chain, not the recursion.
            parts: list[Expr] = []
            current: cst.BaseExpression = node
            while isinstance(current, cst.ConcatenatedString):
                parts.append(self.expr(current.left, env))
                current = current.right
            parts.append(self.expr(current, env))
            return Concat(tuple(p for part in parts for p in _parts(part)))
        if isinstance(node, cst.FormattedString):
            return self.fstring(node, env)
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            key = _subject(node)
            if key and key in env:
                return env[key]
        if isinstance(node, cst.Attribute):
            base = self.expr(node.value, env)
            if isinstance(base, Ref):
                return Ref(f"{base.qual}.{node.attr.value}")
            return Attr(base, node.attr.value)
        if isinstance(node, cst.Call):
            return self.call(node, env)
        if isinstance(node, cst.Subscript):
            base = self.expr(node.value, env)
            if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
                return Index(base, self.expr(node.slice[0].slice.value, env))
            for element in node.slice:
                if isinstance(element.slice, cst.Index):
                    self.expr(element.slice.value, env)
            return Unknown("slice")
        if isinstance(node, cst.BinaryOperation):
            left = self.expr(node.left, env)
            right = self.expr(node.right, env)
            op = {cst.Add: "+", cst.Multiply: "*", cst.Modulo: "%"}.get(type(node.operator))
            if op is None:
                return Unknown("arithmetic")
            if op == "+" and (
                (isinstance(left, Concat) and isinstance(right, Concat | Lit))
                or (isinstance(right, Concat) and isinstance(left, Lit))
            ):
                return _concat(left, right)
            return BinOp(op, left, right)
        if isinstance(node, cst.IfExp):
            self.expr(node.test, env)
            when_true, when_false = self.facts(node.test)
            body = self.expr(node.body, self.apply(when_true, dict(env)))
            orelse = self.expr(node.orelse, self.apply(when_false, dict(env)))
            return one_of([body, orelse])
        if isinstance(node, cst.BooleanOperation):
            return one_of([self.expr(node.left, env), self.expr(node.right, env)])
        if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
            items: list[Expr] = []
            for element in node.elements:
                value = self.expr(element.value, env)
                items.append(Star(value) if isinstance(element, cst.StarredElement) else value)
            return Seq(tuple(items))
        if isinstance(node, cst.Dict):
            pairs: list[tuple[Expr, Expr]] = []
            for element in node.elements:
                if isinstance(element, cst.DictElement):
                    pairs.append((self.expr(element.key, env), self.expr(element.value, env)))
                else:
                    self.expr(element.value, env)
            return DictLit(tuple(pairs))
        if isinstance(node, cst.Lambda):
            inner = dict(env)
            for p in [*node.params.params, *node.params.kwonly_params]:
                inner[p.name.value] = Unknown("lambda parameter")
            return Lambda(self.expr(node.body, inner))
        if isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)):
            return self.comprehension(node, env)
        if isinstance(node, cst.Await):
            return self.expr(node.expression, env)
        if isinstance(node, cst.NamedExpr):
            value = self.expr(node.value, env)
            self.assign(node.target, value, env)
            return value
        if isinstance(node, cst.UnaryOperation):
            self.expr(node.expression, env)
            return Unknown("operator")
        if isinstance(node, cst.Comparison):
            self.expr(node.left, env)
            for comparison in node.comparisons:
                self.expr(comparison.comparator, env)
            return Unknown("comparison")
        return Unknown(type(node).__name__)

    def fstring(self, node: cst.FormattedString, env: Env) -> Expr:
        parts: list[Expr] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(Lit(part.value.replace("{{", "{").replace("}}", "}")))
            elif isinstance(part, cst.FormattedStringExpression):
                parts.append(self.expr(part.expression, env))
        return Concat(tuple(parts))

    def comprehension(self, node: cst.BaseComp | cst.DictComp, env: Env) -> Expr:
        inner = dict(env)
        clause: cst.CompFor | None = node.for_in
        while clause is not None:
            self.assign(clause.target, Elem(self.expr(clause.iter, inner)), inner)
            for condition in clause.ifs:
                self.expr(condition.test, inner)
                inner = self.apply(self.facts(condition.test)[0], inner)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            return DictLit(((self.expr(node.key, inner), self.expr(node.value, inner)),))
        return Comp(self.expr(node.elt, inner))

    def call(self, node: cst.Call, env: Env) -> Expr:
        func = self.expr(node.func, env)
        args: list[Expr] = []
        kwargs: list[tuple[str, Expr]] = []
        spread = False
        for arg in node.args:
            value = self.expr(arg.value, env)
            if arg.star:
                spread = True
                if arg.star == "*":
                    args.append(Star(value))
            elif arg.keyword is not None:
                kwargs.append((arg.keyword.value, value))
            else:
                args.append(value)
        call = Call(func, tuple(args), tuple(kwargs), self.mod.site(node, self.stmt_line), spread)
        self.fn.calls.append(call)
        if isinstance(node.func, cst.Attribute):
            self.maybe_sink(node.func.attr.value, func, call)
        return call

    def maybe_sink(self, method: str, func: Expr, call: Call) -> None:
        kw = dict(call.kwargs)
        if method in self.mod.sql_methods and (call.args or "sql" in kw):
            sql = call.args[0] if call.args else kw["sql"]
            data = call.args[1] if len(call.args) > 1 else None
            for name in SQL_PARAM_KEYWORDS:
                data = kw.get(name, data)
            self.fn.sinks.append(Sink("sql", call.site, sql, data, method))
        elif method in TABLE_METHODS and isinstance(func, Attr):
            receiver = func.base
            if isinstance(receiver, Index) or (
                isinstance(receiver, Call)
                and isinstance(receiver.func, Attr)
                and receiver.func.name == "table"
            ):
                keyword, position = TABLE_METHODS[method]
                data = kw.get(keyword, call.args[position] if len(call.args) > position else None)
                self.fn.sinks.append(Sink("table", call.site, receiver, data, method))


def _parts(value: Expr) -> tuple[Expr, ...]:
    return value.parts if isinstance(value, Concat) else (value,)


def _concat(left: Expr, right: Expr) -> Expr:
    return Concat(_parts(left) + _parts(right))


def _merge(envs: list[Env]) -> Env:
    """Join variable values from branches that meet again."""
    if len(envs) == 1:
        return envs[0]
    merged: Env = {}
    for env in envs:
        for key, value in env.items():
            if key not in merged:
                merged[key] = value
            elif merged[key] != value:
                merged[key] = one_of([merged[key], value])
    return merged
