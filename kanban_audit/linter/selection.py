"""Which codes a run reports: select, ignore and per-file ignores, validated."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kanban_audit.codes import check_selectors
from kanban_audit.config import Config
from kanban_audit.linter.globs import matches


@dataclass(frozen=True)
class Selection:
    """Codes or prefixes to report and to drop; the command line's select wins."""

    root: Path
    cwd: Path
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls, config: Config, select: tuple[str, ...], ignore: tuple[str, ...], cwd: Path
    ) -> Selection:
        """Merge the command line with the config; an unknown code is an error."""
        check_selectors(select, "--select")
        check_selectors(ignore, "--ignore")
        where = f"{config.source}: [tool.kanban-audit]" if config.source else "configuration"
        check_selectors(config.select, f"{where}.select")
        check_selectors(config.ignore, f"{where}.ignore")
        for pattern, codes in config.per_file_ignores.items():
            check_selectors(codes, f"{where}.per-file-ignores.{pattern}")
        return cls(
            root=config.root,
            cwd=cwd,
            select=select or config.select,
            ignore=ignore + config.ignore,
            per_file_ignores=config.per_file_ignores,
        )

    def wants(self, code: str, path: str) -> bool:
        """Whether a finding with this code, reported at this path, is kept."""
        if self.select and not _code_matches(code, self.select):
            return False
        if _code_matches(code, self.ignore):
            return False
        for pattern, codes in self.per_file_ignores.items():
            absolute = (self.cwd / path).absolute() if not os.path.isabs(path) else Path(path)
            try:
                rel = absolute.relative_to(self.root).as_posix()
            except ValueError:
                rel = path
            if matches(rel, (pattern,)) and _code_matches(code, codes):
                return False
        return True


def _code_matches(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code.startswith(p.upper()) for p in prefixes) or "ALL" in (
        p.upper() for p in prefixes
    )
