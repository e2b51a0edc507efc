"""Render an audit or a repair: a table for people, JSON (DESIGN.md keys) for scripts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from kanban_audit import JSON_VERSION, __version__, jsontext, terminal
from kanban_audit.auditor import guard
from kanban_audit.auditor.checks import Finding, Report
from kanban_audit.auditor.repair import REPAIRED, SKIPPED, UNKNOWN, Applied
from kanban_audit.auditor.workers import Scan
from kanban_audit.terminal import Style, plural, printable

PLAIN = Style()


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "task_id": finding.task_id,
        "codes": list(finding.codes),
        "repairable": finding.repairable,
        "action": finding.action,
        "cause": finding.cause,
        "why": list(finding.why),
        "evidence": finding.evidence,
    }


def summary(report: Report) -> dict[str, Any]:
    codes = Counter(code for f in report.findings for code in f.codes)
    return {
        "running": report.running,
        "open_runs": report.open_runs,
        "findings": len(report.findings),
        "repairable": len(report.planned),
        "by_code": dict(sorted(codes.items())),
        "grace_seconds": report.grace,
        "skipped_checks": [{"check": c, "reason": why} for c, why in report.skipped],
        "processes": report.processes.as_dict() if report.processes else None,
    }


def audit_json(report: Report) -> dict[str, Any]:
    """The audit document; `version` is the format's, as in the lint JSON."""
    return {
        "version": JSON_VERSION,
        "tool_version": __version__,
        "db": report.db,
        "checked_at": report.checked_at,
        "findings": [finding_dict(f) for f in report.findings],
        "summary": summary(report),
        "guard": report.guard.as_dict() if report.guard else None,
        "triggers": [{"name": t.name, "table": t.table} for t in report.triggers],
    }


def repair_json(report: Report, applied: bool, done: Applied) -> dict[str, Any]:
    doc = audit_json(report)
    doc["applied"] = applied
    doc["backup"] = str(done.backup) if done.backup else None
    doc["results"] = [
        {"task_id": o.task_id, "result": o.result, "detail": o.detail} for o in done.outcomes
    ]
    doc["summary"]["repaired"] = sum(o.result == REPAIRED for o in done.outcomes)
    doc["summary"]["skipped"] = sum(o.result == SKIPPED for o in done.outcomes)
    doc["summary"]["unknown"] = sum(o.result == UNKNOWN for o in done.outcomes)
    doc["summary"]["stopped"] = done.stopped
    doc["summary"]["interrupted"] = done.interrupted
    return doc


def dumps(doc: dict[str, Any]) -> str:
    """Compact, strict JSON (jsontext): fast on boards with thousands of findings."""
    return jsontext.dumps(doc)


GAP = "  "
# Columns that wrap when the table is wider than the terminal.
FLEXIBLE = ("WHY", "ACTION")
# A wrapped column keeps at least this many characters a line.
MIN_WRAPPED = 10


def _fit(widths: list[int], flexible: list[int], limit: int | None) -> list[int]:
    """Column widths within `limit`: the flexible columns share the room the others leave.

    Narrowest first, each takes its natural width or an equal share of what is
    left, whichever is less (never under MIN_WRAPPED), so a short column keeps
    its width and a long one wraps.
    """
    if limit is None:
        return widths
    fitted = list(widths)
    room = limit - len(GAP) * (len(widths) - 1)
    room -= sum(w for i, w in enumerate(widths) if i not in flexible)
    left = sorted(flexible, key=lambda i: widths[i])
    while left:
        i = left.pop(0)
        fitted[i] = min(widths[i], max(room // (len(left) + 1), MIN_WRAPPED))
        room -= fitted[i]
    return fitted


def table(
    rows: list[tuple[str, ...]],
    style: Style,
    colours: list[tuple[str | None, ...]] | None = None,
) -> str:
    """Left-aligned columns fitted to the style's width; the last column is not padded.

    Too wide, the FLEXIBLE columns wrap inside their own column; the other
    columns and the layout never move. `colours` gives each cell's SGR code.
    """
    header = rows[0]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    widths = _fit(widths, [i for i, name in enumerate(header) if name in FLEXIBLE], style.width)
    lines = []
    for r, row in enumerate(rows):
        cells = [terminal.wrap(cell, width) for cell, width in zip(row, widths, strict=True)]
        for k in range(max(len(c) for c in cells)):
            out = []
            for i, cell in enumerate(cells):
                text = cell[k] if k < len(cell) else ""
                sgr = colours[r][i] if colours else None
                pad = "" if i == len(cells) - 1 else " " * (widths[i] - len(text))
                out.append((terminal.paint(text, sgr, style.colour) if sgr else text) + pad)
            lines.append(GAP.join(out).rstrip())
    return "\n".join(lines)


def audit_text(report: Report, style: Style = PLAIN) -> str:
    """The terminal view: one row per task (task, codes, cause, why, action) and a summary."""
    out = []
    if report.findings:
        rows = [("TASK", "CODES", "CAUSE", "WHY", "ACTION")]
        colours: list[tuple[str | None, ...]] = [(terminal.BOLD,) * 5]
        for f in report.findings:
            action = f.action if f.repairable else f.action or "none"
            cells = (str(f.task_id), ",".join(f.codes), f.cause, "; ".join(f.why), action)
            rows.append(tuple(map(printable, cells)))
            # Red: repair fixes it; yellow: held back (a live or remote worker, --force).
            held = "--force" in f.action
            codes = terminal.YELLOW if held else terminal.RED
            colours.append((None, codes, None, None, terminal.YELLOW if held else None))
        out.append(table(rows, style, colours))
    if report.guard is not None:
        out.append(f"guard: {guard_text(report.guard)}")
    out += [
        printable(
            f"warning: trigger {t.name!r} on {t.table!r} can change what a repair writes"
            " (repair checks each write and rolls back one the board changes)"
        )
        for t in report.triggers
    ]
    if report.processes is not None:
        out.append(processes_text(report.processes))
    s = summary(report)
    out.append(
        f"{printable(report.db)}: {s['running']} running, {plural(s['open_runs'], 'open run')},"
        f" {plural(s['findings'], 'finding')} ({s['repairable']} repairable)"
    )
    out += [f"skipped {c['check']}: {c['reason']}" for c in s["skipped_checks"]]
    return "\n".join(out)


def processes_text(scan: Scan) -> str:
    """Whose processes the stray-worker check saw: this host's only."""
    unreadable = f", {scan.unreadable} unreadable, not judged" if scan.unreadable else ""
    foreign = (
        f", {scan.foreign} naming it whose user may not write it, not judged"
        if scan.foreign
        else ""
    )
    return (
        f"processes scanned on {printable(scan.host)}: {scan.scanned},"
        f" {plural(len(scan.workers), 'worker')} of this board{unreadable}{foreign}"
    )


def repair_text(report: Report, applied: bool, done: Applied, style: Style = PLAIN) -> str:
    """What was (or would be) written, task by task."""
    if not applied:
        n = len(report.planned)
        if not n:
            return "nothing to repair"
        return f"dry run: {plural(n, 'repair')} planned; --apply to write"
    lines = [f"backup: {printable(str(done.backup))}"] if done.backup else []
    colour = {REPAIRED: terminal.GREEN, SKIPPED: terminal.YELLOW, UNKNOWN: terminal.RED}
    lines += [
        f"{terminal.paint(o.result, colour[o.result], style.colour)}"
        f" {printable(str(o.task_id))}: {printable(o.detail)}"
        for o in done.outcomes
    ]
    counts = Counter(o.result for o in done.outcomes)
    tail = f"repaired {counts[REPAIRED]}, skipped {counts[SKIPPED]}"
    tail += f", unknown {counts[UNKNOWN]}" if counts[UNKNOWN] else ""
    lines.append(tail + (f" (stopped: {printable(done.stopped)})" if done.stopped else ""))
    return "\n".join(lines)


def guard_text(state: guard.GuardState) -> str:
    """The guard's state in a few words, and what would mend it (trigger names escaped)."""
    if state.state == guard.CURRENT:
        names = ", ".join(t.name for t in state.expected)
        return f"current ({names} on {state.expected[0].table!r})"
    if state.state == guard.MISSING:
        return "missing (kanban-audit guard install adds it)"
    if state.state == guard.UNAVAILABLE:
        return f"unavailable: {printable(state.differences[0])}"
    differences = printable("; ".join(state.differences))
    return f"{state.state}: {differences} (kanban-audit guard install replaces it)"


def guard_json(db: Path, state: guard.GuardState) -> dict[str, Any]:
    return {"version": JSON_VERSION, "tool_version": __version__, "db": str(db), **state.as_dict()}


def guard_change_json(db: Path, change: guard.Change) -> dict[str, Any]:
    return {
        **guard_json(db, change.after),
        "action": change.action,
        "dropped": list(change.dropped),
        "created": list(change.created),
    }


def guard_change_text(db: Path, command: str, change: guard.Change) -> str:
    """One line: what install or remove did (the board's trigger names escaped)."""
    if change.action == "unchanged":
        done = "already current" if command == "install" else "not installed"
        return printable(f"{db}: guard {done}; nothing changed")
    parts = [f"dropped {', '.join(change.dropped)}"] if change.dropped else []
    parts += [f"created {', '.join(change.created)}"] if change.created else []
    return printable(f"{db}: guard {change.action}: {'; '.join(parts)}")
