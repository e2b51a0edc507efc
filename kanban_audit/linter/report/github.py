"""GitHub Actions workflow commands: findings become annotations on the PR diff."""

from __future__ import annotations

from kanban_audit.codes import LINT_CODES
from kanban_audit.linter.findings import LintResult, printable_result


def escape_data(text: str) -> str:
    """Escape a command's message the way @actions/core does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: `,` and `:` would otherwise end it early."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(properties: dict[str, str], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::error {props}::{escape_data(message)}"


def render_github(result: LintResult) -> str:
    """One `::error` per finding (trace in the message body) and per unreadable file.

    Texts from the tree lose their control characters first (a raw escape sequence
    reaches the log viewer); then GitHub's own escaping keeps each command one line.
    """
    result = printable_result(result)
    lines = []
    for finding in result.findings:
        properties = _place(finding.path, finding.line, finding.col)
        rule = LINT_CODES.get(finding.code)
        properties["title"] = f"{finding.code} {rule.name}" if rule else finding.code
        message = "\n".join(
            [finding.message]
            + [f"  {step.path}:{step.line}:{step.col}: {step.note}" for step in finding.trace]
        )
        lines.append(_command(properties, message))
    lines.extend(
        _command(_place(error.path, error.line, error.col), error.message)
        for error in result.errors
    )
    return "".join(line + "\n" for line in lines)


def _place(path: str, line: int, col: int) -> dict[str, str]:
    """`file`, and `line`/`col` when known (0 is unknown: GitHub then annotates the file)."""
    properties = {"file": path}
    if line > 0:
        properties["line"] = str(line)
        if col > 0:
            properties["col"] = str(col)
    return properties
