"""The module-wide state a chunk's interpretation reads and fills."""

from __future__ import annotations

import libcst as cst

from kanban_audit.linter.summarize.context import ModuleContext
from kanban_audit.linter.summarize.names import dotted, import_target
from kanban_audit.linter.summarize.positions import Positions
from kanban_audit.linter.summarize.writes import Spellings
from kanban_audit.linter.values import ChunkSummary, Site, star_modules


class ModuleAnalyzer:
    """The module's names (from its context), where this chunk's nodes are, and the
    chunk's contributions as they are found."""

    def __init__(
        self,
        context: ModuleContext,
        positions: Positions,
        lines: list[str],
        spellings: Spellings,
        saves_named: bool = True,
    ) -> None:
        self.context = context
        self.module = context.module
        self.is_package = context.is_package
        self.top_names = context.top_names
        self.imports = context.imports
        self.stars = star_modules(context.imports)
        self.positions = positions
        self.lines = lines
        self.spellings = spellings
        # Whether the chunk may save an object naming the fields saved (saves.py).
        self.saves_named = saves_named
        self.chunk = ChunkSummary()
        # Where the chunk's assignments hold each class attribute's list (or dict) of
        # what its methods add (summarize/held.py): (attribute, kind) -> position.
        self.held: dict[tuple[str, str], int] = {}

    def record_import(self, node: cst.Import | cst.ImportFrom, into: dict[str, str]) -> None:
        """What a function-local import binds (module-level ones are in the context)."""
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
        return Site(line, col, stmt_line, self.text(line=stmt_line), end_line)

    def statement_site(self, line: int) -> Site:
        """A statement's site: its first line, at its indentation."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Site(line, len(text) - len(text.lstrip()), line, text.strip(), line)

    def text(self, line: int) -> str:
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""

    def line_of(self, node: cst.CSTNode) -> int:
        return self.positions.line(node)
