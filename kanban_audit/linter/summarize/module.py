"""One module: its top-level names, its imports, and where its nodes are."""

from __future__ import annotations

import libcst as cst

from kanban_audit.linter.summarize.names import dotted, import_target, target_names
from kanban_audit.linter.summarize.positions import Positions
from kanban_audit.linter.values import ModuleSummary, Site

_NESTED_BLOCKS = (cst.If, cst.Try, cst.TryStar, cst.With)
_CLAUSES = (cst.If, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally)


class ModuleAnalyzer:
    """The module-wide state the function interpreter reads and fills."""

    def __init__(
        self,
        module: str,
        path: str,
        positions: Positions,
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

    def collect_top(self, stmt: cst.CSTNode) -> None:
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
                        self.top_names.update(target_names(target))
                elif isinstance(small, (cst.Import, cst.ImportFrom)):
                    self.record_import(small, self.summary.imports)
        elif isinstance(stmt, _NESTED_BLOCKS):
            for child in stmt.children:
                if isinstance(child, cst.BaseSuite):
                    for inner in child.body:
                        self.collect_top(inner)
                elif isinstance(child, _CLAUSES):
                    self.collect_top(child)
        elif isinstance(stmt, _CLAUSES[1:]):
            for inner in stmt.body.body:
                self.collect_top(inner)

    def record_import(self, node: cst.Import | cst.ImportFrom, into: dict[str, str]) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted(alias.name) or ""
                if alias.asname:
                    into[alias.asname.name.value] = full  # type: ignore[union-attr]
                else:
                    into[full.split(".")[0]] = full.split(".")[0]
            return
        base = import_target(self.module, node, self.is_package)
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted(alias.name) or ""
            local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
            into[local] = f"{base}.{name}" if base else name

    def call_site(self, node: cst.Call, stmt_line: int) -> Site:
        line, col, end_line = self.positions.call(node)
        return Site(line, col, stmt_line, self.text(stmt_line), end_line)

    def text(self, line: int) -> str:
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""

    def line_of(self, node: cst.CSTNode) -> int:
        return self.positions.line(node)
