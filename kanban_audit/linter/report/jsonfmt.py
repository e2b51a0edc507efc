"""JSON for scripts: exactly the documented `LintResult.to_dict()` shape."""

from __future__ import annotations

import json

from kanban_audit.linter.findings import LintResult


def render_json(result: LintResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"
