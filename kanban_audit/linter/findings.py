"""What a lint run produces: findings with traces, per-file errors, the summary."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

from kanban_audit import JSON_VERSION
from kanban_audit.codes import CODES
from kanban_audit.linter.solve.decorators import called_name
from kanban_audit.terminal import printable

if TYPE_CHECKING:
    from kanban_audit.linter.solve.atoms import Hop, Issue
    from kanban_audit.linter.solve.program import Program
    from kanban_audit.rulepack import RulePack


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
    """A file that could not be analysed; the run goes on without it.

    `line` and `col` (1-based) say where, when known (a syntax error); 0 otherwise.
    """

    path: str
    message: str
    line: int = 0
    col: int = 0

    def to_dict(self) -> dict:
        """`line` and `col` are null when unknown."""
        return {
            "path": self.path,
            "message": self.message,
            "line": self.line or None,
            "col": self.col or None,
        }


@dataclass
class LintResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    files_seen: int = 0
    files_parsed: int = 0
    files_cached: int = 0
    # For people, on stderr (one line each): not part of the report.
    warnings: list[str] = field(default_factory=list)

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


def printable_result(result: LintResult) -> LintResult:
    """A copy for a text output: every text that comes from the tree (paths, messages
    that quote code, trace notes, error texts) with its control characters escaped."""

    def step(s: TraceStep) -> TraceStep:
        return replace(s, path=printable(s.path), note=printable(s.note))

    findings = [
        replace(
            f,
            path=printable(f.path),
            message=printable(f.message),
            trace=tuple(step(s) for s in f.trace),
        )
        for f in result.findings
    ]
    errors = [
        replace(e, path=printable(e.path), message=printable(e.message)) for e in result.errors
    ]
    return replace(result, findings=findings, errors=errors)


def fingerprint(code: str, path: str, symbol: str, source_line: str, sink: str, nth: int) -> str:
    """A hash that ignores line numbers, so findings survive unrelated edits.

    Built from what identifies a finding to a reader: the rule, the file, the
    enclosing function, the reported statement's text, the write it reaches,
    and its rank among otherwise identical findings.
    """
    text = "\x1f".join([code, path, symbol, " ".join(source_line.split()), sink, str(nth)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def build_findings(program: Program, issues: list[Issue], pack: RulePack) -> list[Finding]:
    """Findings for the offending paths, with their final fingerprints.

    Identical findings (same code, file, function, statement text and write)
    are told apart by their rank in file order.
    """
    groups: dict[tuple, list[Finding]] = {}
    for f in merged_routes([_finding(program, issue, pack) for issue in issues]):
        base = (f.code, f.path, f.symbol, " ".join(f.source_line.split()), f.fingerprint)
        groups.setdefault(base, []).append(f)
    numbered = []
    for group in groups.values():
        group.sort(key=lambda f: (f.line, f.col))
        for nth, f in enumerate(group):
            stable = fingerprint(f.code, f.path, f.symbol, f.source_line, f.fingerprint, nth)
            numbered.append(replace(f, fingerprint=stable))
    return numbered


def merged_routes(findings: list[Finding]) -> list[Finding]:
    """One flow, one finding: the findings of one code at one place are one flow that
    reaches the write by several routes (a driver each, a pass-through pool each).
    The most direct route is kept whole (the shortest trace, then the first write in
    file order); each other route adds its write to the trace, as `also ...`."""
    routes: dict[tuple, list[Finding]] = {}
    for f in findings:
        routes.setdefault((f.code, f.path, f.line, f.col), []).append(f)
    kept: list[Finding] = []
    for group in routes.values():
        group.sort(key=lambda f: (len(f.trace), f.trace[-1].path, f.trace[-1].line, f.message))
        first, others = group[0], group[1:]
        writes = [f.trace[-1] for f in others]
        also = [
            replace(w, note=f"also {w.note}")
            for n, w in enumerate(writes)
            if w not in writes[:n] and w != first.trace[-1]
        ]
        kept.append(replace(first, trace=first.trace + tuple(also)))
    return kept


def _short(qual: str) -> str:
    return qual.rsplit(".", 1)[-1]


def _through(hop: Hop) -> str:
    """What a step goes through: the function called, or the attribute set."""
    return f"`{hop.stored}`" if hop.stored else f"{called_name(hop.callee)}()"


def _step(hop: Hop) -> str:
    """A trace step's note: a call (by getattr: the name may denote it), or a store."""
    if hop.stored:
        return f"{_short(hop.caller)}() sets {_through(hop)}"
    how = " through getattr" if hop.looked_up else ""
    return f"{_short(hop.caller)}() calls {_through(hop)}{how}"


def _values_text(issue: Issue) -> str:
    consts = sorted({a.value for a in issue.atoms if a.kind == "const"})
    reasons = sorted({a.value for a in issue.atoms if a.kind == "unknown"})
    if issue.code == "KA001":
        return ", ".join(repr(c) for c in consts)
    return "; ".join(reasons)


def _finding(program: Program, issue: Issue, pack: RulePack) -> Finding:
    tasks = pack.tasks
    message = CODES[issue.code].message.format(
        status=tasks.status,
        guarded=tasks.guarded,
        column=f"{tasks.shown}.{tasks.status}",
        via=f" via {_through(issue.chain[0])}" if issue.chain else "",
        values=_values_text(issue),
    )
    steps = [
        TraceStep(
            program.site_path(hop.caller),
            hop.site.line,
            hop.site.col + 1,
            _step(hop),
        )
        for hop in issue.chain
    ]
    sink = issue.sink
    steps.append(
        TraceStep(
            program.site_path(issue.sink_func),
            sink.site.line,
            sink.site.col + 1,
            f"{_short(issue.sink_func)}() writes {issue.column_note}",
        )
    )
    site = issue.report_site
    return Finding(
        code=issue.code,
        path=program.site_path(issue.report_func),
        line=site.line,
        col=site.col + 1,
        message=message,
        trace=tuple(steps),
        symbol=issue.report_func,
        source_line=site.text,
        fingerprint=f"{issue.sink_func}:{' '.join(sink.site.text.split())}",  # numbered above
        stmt_line=site.stmt_line,
        end_line=site.end_line,
    )
