"""Which findings count: --select/--ignore, --task, and tasks acknowledged in the configuration.

The selection only chooses findings, never what a finding holds: a finding is
kept when one of its codes is selected and not ignored, with all its codes,
evidence and repair decision as the audit made them (ignoring KD006 never makes
a remote task repairable). An acknowledged finding is moved to `known`: still
reported, never repaired, and not counted in the exit code until its
acknowledgement expires (then it counts again, with a note saying so).

The configuration is `[tool.kanban-audit.audit]` of a TOML file (`--config`,
else the nearest pyproject.toml):

    [tool.kanban-audit.audit]
    grace = 300
    ignore = ["KD005"]

    [[tool.kanban-audit.audit.acknowledge]]
    task = "t_00000460"
    reason = "host worker-2 is being rebuilt (OPS-12)"
    until = 2026-12-31
    codes = ["KD003", "KD006"]   # optional: only these codes are known
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kanban_audit.auditor.checks import Finding, Known, Report
from kanban_audit.codes import AUDIT, CODES, check_selectors
from kanban_audit.config import find_pyproject
from kanban_audit.errors import UsageError
from kanban_audit.userfile import read_user_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

AUDIT_CODES = {code: entry for code, entry in CODES.items() if entry.engine == AUDIT}
ACK_KEYS = {"task", "reason", "until", "codes"}
KEYS = {"grace", "select", "ignore", "acknowledge"}


@dataclass(frozen=True)
class Acknowledgement:
    """A finding the operator knows about: why, until when, and (optionally) which codes."""

    task: str
    reason: str
    until: dt.date
    codes: tuple[str, ...] = ()

    def covers(self, finding: Finding) -> bool:
        return str(finding.task_id) == self.task and (
            not self.codes or set(finding.codes) <= set(self.codes)
        )


@dataclass(frozen=True)
class Policy:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    acknowledged: tuple[Acknowledgement, ...] = ()
    grace: float | None = None
    source: str | None = None


def codes(values: Iterable[str], where: str) -> tuple[str, ...]:
    """Validated audit codes or prefixes (an unknown one is exit 2, with a hint)."""
    cleaned = tuple(v.strip().upper() for v in values if v.strip())
    check_selectors(cleaned, where, AUDIT_CODES)
    return cleaned


def _matches(code: str, selectors: tuple[str, ...]) -> bool:
    return any(s == "ALL" or code.startswith(s) for s in selectors)


def selected(finding: Finding, policy: Policy) -> bool:
    """One of the finding's codes is selected (all are, without --select) and not ignored.

    A finding with no code holds values the checks could not read (checks.ODD_ACTION):
    no selection can say it is not wanted, so it is always kept.
    """
    if not finding.codes:
        return True
    return any(
        (not policy.select or _matches(code, policy.select)) and not _matches(code, policy.ignore)
        for code in finding.codes
    )


def apply(report: Report, policy: Policy, today: dt.date) -> Report:
    """The report with only the chosen findings; acknowledged ones moved to `known`."""
    findings, known = [], []
    for finding in report.findings:
        if policy.tasks and str(finding.task_id) not in policy.tasks:
            continue
        if not selected(finding, policy):
            continue
        ack = next((a for a in policy.acknowledged if a.covers(finding)), None)
        if ack is not None and today <= ack.until:
            known.append(Known(finding, ack.reason, ack.until.isoformat()))
            continue
        if ack is not None:
            finding = dataclasses.replace(
                finding, why=(*finding.why, f"acknowledgement expired {ack.until.isoformat()}")
            )
        findings.append(finding)
    return dataclasses.replace(report, findings=tuple(findings), known=tuple(known))


def load(path: str | Path | None, start: Path) -> Policy:
    """`[tool.kanban-audit.audit]` of `path`, else of the nearest pyproject.toml (or none)."""
    source = Path(path) if path is not None else find_pyproject(start.resolve())
    if source is None:
        return Policy()
    try:
        data = tomllib.loads(read_user_text(source, "config file"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: not valid TOML: {exc}") from None
    where = f"{source}: [tool.kanban-audit.audit]"
    section = data.get("tool", {}).get("kanban-audit", {}).get("audit", {})
    if not isinstance(section, dict):
        raise UsageError(f"{where}: expected a table")
    unknown = sorted(set(section) - KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown option {unknown[0]!r}")
    grace = section.get("grace")
    if grace is not None and (
        isinstance(grace, bool)
        or not isinstance(grace, (int, float))
        or not math.isfinite(grace)
        or grace < 0
    ):
        raise UsageError(f"{where}.grace: expected a number of seconds, 0 or more")
    acks = section.get("acknowledge", [])
    if not isinstance(acks, list):
        raise UsageError(f"{where}.acknowledge: expected an array of tables")
    return Policy(
        select=codes(_strings(section.get("select", []), f"{where}.select"), f"{where}.select"),
        ignore=codes(_strings(section.get("ignore", []), f"{where}.ignore"), f"{where}.ignore"),
        acknowledged=tuple(_ack(a, f"{where}.acknowledge[{n}]") for n, a in enumerate(acks)),
        grace=float(grace) if grace is not None else None,
        source=str(source),
    )


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: expected a list of strings")
    return value


def _ack(entry: Any, where: str) -> Acknowledgement:
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: expected a table")
    unknown = sorted(set(entry) - ACK_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}")
    task, reason, until = entry.get("task"), entry.get("reason"), entry.get("until")
    if not isinstance(task, str) or not task:
        raise UsageError(f"{where}.task: expected a task id")
    if not isinstance(reason, str) or not reason.strip():
        raise UsageError(f"{where}.reason: say why the finding is known")
    if isinstance(until, str):
        try:
            until = dt.date.fromisoformat(until)
        except ValueError:
            until = None
    if isinstance(until, dt.datetime) or not isinstance(until, dt.date):
        raise UsageError(f"{where}.until: expected a date (YYYY-MM-DD) the acknowledgement ends")
    found = codes(_strings(entry.get("codes", []), f"{where}.codes"), f"{where}.codes")
    return Acknowledgement(task, reason.strip(), until, found)
