"""Static analysis and audit for Kanban boards: only the claim path may put a task
into `running`.

The library: `lint()` analyses Python code, `audit()` reads a board,
`repair()` heals it, `load_pack()` reads a rule pack. Names are imported on
first use, so `import kanban_audit` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
# The version of the JSON documents `lint` and `audit` print.
JSON_VERSION = 1

_EXPORTS = {
    "lint": "kanban_audit.api",
    "audit": "kanban_audit.api",
    "repair": "kanban_audit.api",
    "board": "kanban_audit.api",
    "boards": "kanban_audit.api",
    "load_policy": "kanban_audit.api",
    "history": "kanban_audit.api",
    "undo": "kanban_audit.api",
    "Policy": "kanban_audit.auditor.policy",
    "Board": "kanban_audit.api",
    "RepairResult": "kanban_audit.api",
    "load_pack": "kanban_audit.rulepack",
    "RulePack": "kanban_audit.rulepack",
    "LintResult": "kanban_audit.linter.findings",
    "Finding": "kanban_audit.linter.findings",
    "FileError": "kanban_audit.linter.findings",
    "TraceStep": "kanban_audit.linter.findings",
    "Report": "kanban_audit.auditor.checks",
    "KanbanAuditError": "kanban_audit.errors",
    "UsageError": "kanban_audit.errors",
    "CODES": "kanban_audit.codes",
}
__all__ = ["__version__", "JSON_VERSION", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'kanban_audit' has no attribute {name!r}")
