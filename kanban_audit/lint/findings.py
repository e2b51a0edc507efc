"""What a lint run produces: findings with traces, per-file errors, the summary."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from kanban_audit import JSON_VERSION


@dataclass(frozen=True)
class TraceStep:
    """One hop on the path from where a value enters to the write."""

    path: str
    line: int
    col: int
    note: str


@dataclass(frozen=True)
class Finding:
    code: str
    path: str
    line: int
    col: int
    message: str
    trace: tuple[TraceStep, ...] = ()
    # Qualified name of the function holding the reported line ("" at module level).
    symbol: str = ""
    # The reported line's source text, stripped: part of the fingerprint.
    source_line: str = ""
    fingerprint: str = ""
    # First line of the reported statement: a suppression there also applies.
    stmt_line: int = 0
    # Last line of the reported expression: a suppression there applies as well.
    end_line: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["trace"] = [asdict(step) for step in self.trace]
        data.pop("source_line")
        data.pop("stmt_line")
        data.pop("end_line")
        return data


@dataclass(frozen=True)
class FileError:
    """A file that could not be analysed; the run goes on without it."""

    path: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_seen: int = 0
    files_parsed: int = 0
    files_cached: int = 0

    def summary(self) -> dict:
        by_code: dict[str, int] = {}
        for finding in self.findings:
            by_code[finding.code] = by_code.get(finding.code, 0) + 1
        return {
            "findings": len(self.findings),
            "errors": len(self.errors),
            "by_code": dict(sorted(by_code.items())),
            "files": self.files_seen,
            "files_parsed": self.files_parsed,
            "files_cached": self.files_cached,
        }

    def to_dict(self) -> dict:
        return {
            "version": JSON_VERSION,
            "findings": [f.to_dict() for f in self.findings],
            "errors": [e.to_dict() for e in self.errors],
            "summary": self.summary(),
        }


def fingerprint(code: str, path: str, symbol: str, source_line: str, sink: str, nth: int) -> str:
    """A hash that ignores line numbers, so findings survive unrelated edits.

    Built from what identifies a finding to a reader: the rule, the file, the
    enclosing function, the reported statement's text, the write it reaches,
    and its rank among otherwise identical findings.
    """
    text = "\x1f".join([code, path, symbol, " ".join(source_line.split()), sink, str(nth)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
