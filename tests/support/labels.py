"""A corpus project's labels against the lint's findings: the difference, and the gaps.

A project's known gaps may explain a difference, never hide one: every entry of
the difference must be a listed gap, and every listed gap must be in the
difference. When they match exactly the check raises KnownGaps (the tests mark
such a project as a strict expected failure of that exception); anything else
is an AssertionError that no mark excuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from kanban_audit.linter.findings import LintResult
from support.corpus import Gap, Project, Write

Place = tuple[str, int, str]  # path, line, code


class KnownGaps(Exception):
    """The difference is exactly the project's listed gaps."""


@dataclass(frozen=True)
class Difference:
    missed: frozenset[Place]  # labelled, not reported
    false: frozenset[Place]  # reported, not labelled

    def __bool__(self) -> bool:
        return bool(self.missed or self.false)


def labelled(project: Project) -> frozenset[Place]:
    return frozenset((f.path, f.line, f.code) for f in project.findings)


def reported(result: LintResult) -> frozenset[Place]:
    """The places reported: one flow found over several paths is one place."""
    return frozenset((f.path, f.line, f.code) for f in result.findings)


def compare(project: Project, result: LintResult) -> Difference:
    want, got = labelled(project), reported(result)
    return Difference(missed=want - got, false=got - want)


def _take(side: set[Place], path: str, line: int) -> Place | None:
    """Remove one entry at path:line from `side`; the one removed."""
    for place in sorted(side):
        if place[:2] == (path, line):
            side.remove(place)
            return place
    return None


def _take_code(side: set[Place], code: str, path: str) -> Place | None:
    """Remove one entry of `code` from `side`, one in `path` first."""
    ranked = sorted(side, key=lambda p: (p[0] != path, p))
    for place in ranked:
        if place[2] == code:
            side.remove(place)
            return place
    return None


def unexplained(diff: Difference, gaps: tuple[Gap, ...]) -> list[str]:
    """What the gaps leave unexplained: difference entries no gap names, and gaps the
    difference does not hold. A `misplaced` gap names one end of a moved finding
    (the label's place or the reported one) and takes the other end of the same code,
    in the same file first."""
    missed, false = set(diff.missed), set(diff.false)
    problems = []
    for gap in sorted(gaps, key=lambda g: g.kind == "misplaced"):
        if gap.kind == "missed":
            taken = _take(missed, gap.path, gap.line)
        elif gap.kind == "false":
            taken = _take(false, gap.path, gap.line)
        else:
            taken = None
            for here, there in ((missed, false), (false, missed)):
                end = _take(here, gap.path, gap.line)
                if end is None:
                    continue
                taken = _take_code(there, end[2], end[0])
                if taken is not None:
                    break
                here.add(end)  # one end alone is no move: left to explain
        if taken is None:
            problems.append(f"gap {gap.kind} {gap.path}:{gap.line} is not in the difference")
    problems += [f"labelled, not reported: {p}:{n} {c}" for p, n, c in sorted(missed)]
    problems += [f"reported, not labelled: {p}:{n} {c}" for p, n, c in sorted(false)]
    return problems


def describe(result: LintResult) -> str:
    """The run's findings and errors, for an assertion message."""
    lines = [f"  {f.path}:{f.line} {f.code} {f.message}" for f in result.findings]
    lines += [f"  error {e.path}:{e.line} {e.message}" for e in result.errors]
    return "\n".join(lines) or "  (nothing reported)"


def check(problems: list[str], gaps: tuple[Gap, ...], what: str, result: LintResult) -> None:
    """AssertionError on anything the gaps do not explain; KnownGaps if they explain it."""
    assert not problems, f"{what}:\n  " + "\n  ".join(problems) + "\nthe run:\n" + describe(result)
    if gaps:
        raise KnownGaps(gap_reason(gaps))


def gap_reason(gaps: tuple[Gap, ...]) -> str:
    return "known gaps: " + "; ".join(f"{g.kind} {g.path}:{g.line} ({g.reason})" for g in gaps)


def check_findings(project: Project, result: LintResult) -> None:
    """With the project's pack: exactly the labelled findings, up to its listed gaps."""
    assert result.errors == [], describe(result)
    gaps = project.gaps_of("missed", "false", "misplaced")
    problems = unexplained(compare(project, result), gaps)
    check(problems, gaps, f"{project.id}: findings differ from the labels", result)


def sees(result: LintResult, write: Write) -> bool:
    """Whether a finding is at the write or passes through it."""
    spot = (write.path, write.line)
    return any(
        (f.path, f.line) == spot or any((s.path, s.line) == spot for s in f.trace)
        for f in result.findings
    )


def check_claims_seen(project: Project, result: LintResult) -> None:
    """With nothing sanctioned: every claim write is reported, up to `claim-unseen` gaps."""
    assert result.errors == [], describe(result)
    gaps = project.gaps_of("claim-unseen")
    unseen = {(w.path, w.line) for w in project.claims if not sees(result, w)}
    listed = {(g.path, g.line) for g in gaps}
    problems = [f"claim write not reported: {p}:{n}" for p, n in sorted(unseen - listed)]
    problems += [
        f"gap claim-unseen {p}:{n} is no unseen claim write" for p, n in sorted(listed - unseen)
    ]
    check(problems, gaps, f"{project.id}: claim writes unseen with nothing sanctioned", result)
