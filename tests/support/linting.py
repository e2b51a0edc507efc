"""The lint run in-process as the tests compare it: no configuration, no cache, one job."""

from __future__ import annotations

from pathlib import Path

import kanban_audit
from kanban_audit.linter.findings import LintResult


def run_case(root: Path, targets: list[Path], **options) -> LintResult:
    """Lint `targets` from `root`, with no configuration, no cache, in one process."""
    return kanban_audit.lint(targets, cwd=root, isolated=True, jobs=1, cache=False, **options)


def comparable(result: LintResult) -> list[dict]:
    """Every finding as data (place, code, message, trace, fingerprint): what two runs
    that must agree are compared on."""
    return [f.to_dict() for f in result.findings]
