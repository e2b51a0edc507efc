"""The one order every output format uses, so reports diff cleanly between runs."""

from __future__ import annotations

from dataclasses import replace

from kanban_audit.linter.findings import FileError, Finding, LintResult


def finding_key(finding: Finding) -> tuple[str, int, int, str, str, str]:
    """Sort by place first (path, line, col), then by what was found there."""
    return (
        finding.path,
        finding.line,
        finding.col,
        finding.code,
        finding.message,
        finding.fingerprint,
    )


def error_key(error: FileError) -> tuple[str, int, int, str]:
    return (error.path, error.line, error.col, error.message)


def sorted_result(result: LintResult) -> LintResult:
    """A copy of the result with findings and errors in report order."""
    return replace(
        result,
        findings=sorted(result.findings, key=finding_key),
        errors=sorted(result.errors, key=error_key),
    )
