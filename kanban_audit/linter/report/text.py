"""Plain text for people: one line per finding like ruff/flake8, trace indented."""

from __future__ import annotations

from kanban_audit.linter.findings import FileError, LintResult


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(result: LintResult) -> str:
    """The closing line: what was found, by code, and what could not be read."""
    summary = result.summary()
    parts = []
    if result.findings:
        by_code = ", ".join(f"{code}: {count}" for code, count in summary["by_code"].items())
        parts.append(f"Found {_plural(len(result.findings), 'finding')} ({by_code})")
    elif result.errors:
        parts.append("No findings")
    if result.errors:
        parts.append(f"{_plural(len(result.errors), 'file')} could not be analysed")
    return "; ".join(parts) + "." if parts else "All checks passed."


def _place(error: FileError) -> str:
    if error.line > 0:
        return (
            f"{error.path}:{error.line}:{error.col}"
            if error.col > 0
            else f"{error.path}:{error.line}"
        )
    return error.path


def render_text(result: LintResult) -> str:
    lines = []
    for finding in result.findings:
        lines.append(
            f"{finding.path}:{finding.line}:{finding.col}: {finding.code} {finding.message}"
        )
        lines.extend(
            f"    {step.path}:{step.line}:{step.col}: {step.note}" for step in finding.trace
        )
    lines.extend(f"{_place(error)}: error: {error.message}" for error in result.errors)
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
