"""Output formats for a lint run: text for people, json/sarif/github for machines."""

from __future__ import annotations

from collections.abc import Callable

from kanban_audit.errors import UsageError
from kanban_audit.linter.findings import LintResult
from kanban_audit.linter.report.github import render_github
from kanban_audit.linter.report.jsonfmt import render_json
from kanban_audit.linter.report.ordering import sorted_result
from kanban_audit.linter.report.sarif import render_sarif
from kanban_audit.linter.report.text import TextOptions, render_text

_RENDERERS: dict[str, Callable[[LintResult], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
}
FORMATS = tuple(_RENDERERS)


def render(result: LintResult, fmt: str, text: TextOptions | None = None) -> str:
    """The whole output for `fmt`, newline-terminated ("" when there is nothing to say).

    Findings and errors are sorted by place first, so output is stable.
    `text` (colour, quiet, statistics) shapes the text format only.
    """
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise UsageError(f"unknown format: {fmt} (choose from {', '.join(FORMATS)})") from None
    if fmt == "text":
        return render_text(sorted_result(result), text or TextOptions())
    return renderer(sorted_result(result))
