"""Plain text for people: one line per finding like ruff/flake8, trace indented.

Colour (only when asked: the caller decides from the terminal) marks the
place, the code and the verdict; without it the text is the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from kanban_audit.codes import LINT_CODES
from kanban_audit.linter.findings import LintResult, printable_result


@dataclass(frozen=True)
class TextOptions:
    colour: bool = False
    # Only the findings and the files that could not be analysed: no summary line.
    quiet: bool = False
    # Counts per code instead of the findings, as `ruff --statistics`.
    statistics: bool = False


def plural(count: int, word: str) -> str:
    """`1 finding`, `2 findings`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(result: LintResult) -> str:
    """The closing line: what was found, by code, and what could not be read."""
    summary = result.summary()
    parts = []
    if result.findings:
        by_code = ", ".join(f"{code}: {count}" for code, count in summary["by_code"].items())
        parts.append(f"Found {plural(len(result.findings), 'finding')} ({by_code})")
    elif result.errors:
        parts.append("No findings")
    if result.errors:
        parts.append(f"{plural(len(result.errors), 'file')} could not be analysed")
    return "; ".join(parts) + "." if parts else "All checks passed."


def statistics_lines(result: LintResult) -> list[str]:
    """`count  code  name` per code, the most frequent first, in aligned columns."""
    counts = sorted(result.summary()["by_code"].items(), key=lambda item: (-item[1], item[0]))
    if not counts:
        return []
    count_width = len(str(counts[0][1]))
    code_width = max(len(code) for code, _ in counts)
    return [
        f"{count:>{count_width}}  {code:<{code_width}}  {_name(code)}".rstrip()
        for code, count in counts
    ]


def render_text(result: LintResult, options: TextOptions = TextOptions()) -> str:
    colour = options.colour
    result = printable_result(result)
    lines = statistics_lines(result) if options.statistics else []
    for finding in [] if options.statistics else result.findings:
        code = _style(finding.code, colour, fg="red", bold=True)
        lines.append(
            f"{_place(finding.path, finding.line, finding.col, colour)}: {code} {finding.message}"
        )
        lines.extend(
            _style(f"    {step.path}:{step.line}:{step.col}: {step.note}", colour, dim=True)
            for step in finding.trace
        )
    for error in result.errors:
        label = _style("error", colour, fg="red", bold=True)
        lines.append(
            f"{_place(error.path, error.line, error.col, colour)}: {label}: {error.message}"
        )
    if not options.quiet:
        clean = not result.findings and not result.errors
        lines.append(_style(summary_line(result), colour, fg="green" if clean else None, bold=True))
    return "".join(line + "\n" for line in lines)


def _place(path: str, line: int, col: int, colour: bool) -> str:
    """`path:line:col`, leaving out what is unknown (0)."""
    where = _style(path, colour, bold=True)
    if line > 0:
        where += f":{line}" + (f":{col}" if col > 0 else "")
    return where


def _style(
    text: str, colour: bool, fg: str | None = None, bold: bool = False, dim: bool = False
) -> str:
    # None, not False: click turns False into an explicit "off" code.
    return click.style(text, fg=fg, bold=bold or None, dim=dim or None) if colour else text


def _name(code: str) -> str:
    rule = LINT_CODES.get(code)
    return rule.name if rule else ""
