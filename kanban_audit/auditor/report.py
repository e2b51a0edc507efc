"""Render an audit or a repair: a table for people, JSON (DESIGN.md keys) for scripts."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kanban_audit import JSON_VERSION, __version__, jsontext, terminal
from kanban_audit.auditor import guard, history
from kanban_audit.auditor.checks import Finding, Report
from kanban_audit.auditor.repair import REPAIRED, SKIPPED, UNKNOWN, Applied
from kanban_audit.auditor.workers import Scan
from kanban_audit.terminal import Style, plural, printable

PLAIN = Style()


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "task_id": finding.task_id,
        "title": finding.labels.get("title"),
        "assignee": finding.labels.get("assignee"),
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
        "known": len(report.known),
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
        "known": [
            {**finding_dict(k.finding), "acknowledged": {"reason": k.reason, "until": k.until}}
            for k in report.known
        ],
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
# Columns that give way when the table is wider than the terminal: they wrap,
# except those in ONE_LINE, which are cut short with an ellipsis.
FLEXIBLE = ("TITLE", "WHY", "ACTION")
ONE_LINE = ("TITLE",)
# Columns left out, in this order, while the table cannot fit without cutting a word.
OPTIONAL = ("TITLE", "ASSIGNEE", "AGE")
# A wrapped column keeps at least this many characters a line.
MIN_WRAPPED = 10


def _fit(
    widths: list[int], flexible: list[int], limit: int | None, least: list[int] | None = None
) -> list[int]:
    """Column widths within `limit`: the flexible columns share the room the others leave.

    Each first gets its floor (MIN_WRAPPED, or its `least`: its longest word,
    which wrapping never breaks); then, the one needing least first, each
    takes what it lacks of its natural width or an equal share of the room
    left, whichever is less, so a short column keeps its width and a long one
    wraps.
    """
    if limit is None:
        return widths
    fitted = list(widths)
    room = limit - len(GAP) * (len(widths) - 1)
    room -= sum(w for i, w in enumerate(widths) if i not in flexible)
    for i in flexible:
        fitted[i] = min(widths[i], max(MIN_WRAPPED, least[i] if least else 0))
    room -= sum(fitted[i] for i in flexible)
    left = sorted(flexible, key=lambda i: widths[i] - fitted[i])
    while left:
        i = left.pop(0)
        grow = min(widths[i] - fitted[i], max(room // (len(left) + 1), 0))
        fitted[i] += grow
        room -= grow
    return fitted


# A space that wrapping must not break: inside (...) or '...', and between a number
# and its unit ("120 s"), so "(grace 120 s)" never ends up on two lines.
_UNBREAKABLE = re.compile(r"\([^()]*\)|'[^']*'|\d+ s\b|#\d+|run #")
_GLUE = "\x00"


def _glued(text: str) -> str:
    return _UNBREAKABLE.sub(lambda m: m.group(0).replace(" ", _GLUE), text)


def _words(text: str) -> list[str]:
    """What wrapping never breaks: the words, with the unbreakable spans whole."""
    return _glued(text).split() or [""]


def _wrap(text: str, width: int) -> list[str]:
    return [line.replace(_GLUE, " ") for line in terminal.wrap(_glued(text), width)]


def _longest_words(rows: list[tuple[str, ...]]) -> list[int]:
    """Each column's longest unbreakable word (none for a column cut to one line)."""
    return [
        0 if name in ONE_LINE else max(len(w) for row in rows for w in _words(row[i]))
        for i, name in enumerate(rows[0])
    ]


def _least_width(rows: list[tuple[str, ...]], keep: list[int]) -> int:
    """The narrowest the kept columns can be without cutting a word."""
    kept = [tuple(row[i] for i in keep) for row in rows]
    words = _longest_words(kept)
    total = len(GAP) * (len(keep) - 1)
    for i, name in enumerate(kept[0]):
        natural = max(len(row[i]) for row in kept)
        total += min(natural, max(MIN_WRAPPED, words[i])) if name in FLEXIBLE else natural
    return total


def _cut(text: str, width: int) -> list[str]:
    return [text if len(text) <= width else text[: width - 1] + "\u2026"]


def table(
    rows: list[tuple[str, ...]],
    style: Style,
    colours: list[tuple[str | None, ...]] | None = None,
) -> str:
    """Left-aligned columns fitted to the style's width; the last column is not padded.

    Too wide, the FLEXIBLE columns wrap inside their own column, never inside
    a word; the other columns and the layout never move. While even that
    cannot fit, the OPTIONAL columns are left out; a terminal too narrow for
    the rest gets words cut. `colours` gives each cell's SGR code.
    """
    header = rows[0]
    keep = list(range(len(header)))
    limit = style.width
    for name in OPTIONAL if limit is not None else ():
        if _least_width(rows, keep) <= limit:
            break
        keep = [i for i in keep if header[i] != name]
    rows = [tuple(row[i] for i in keep) for row in rows]
    colours = [tuple(c[i] for i in keep) for c in colours] if colours else None
    header = rows[0]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    words: list[int] | None = _longest_words(rows)
    if limit is not None and _least_width(rows, list(range(len(header)))) > limit:
        words = None  # too narrow for whole words: fill the width, cutting them
    flexible = [i for i, name in enumerate(header) if name in FLEXIBLE]
    widths = _fit(widths, flexible, style.width, words)
    lines = []
    for r, row in enumerate(rows):
        cells = [
            _cut(cell, width) if header[i] in ONE_LINE else _wrap(cell, width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
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
        rows = [("TASK", "TITLE", "ASSIGNEE", "AGE", "CODES", "CAUSE", "WHY", "ACTION")]
        colours: list[tuple[str | None, ...]] = [(terminal.BOLD,) * len(rows[0])]
        for f in report.findings:
            why = "; ".join(text.split(": ", 1)[-1] for text in f.why)
            started = f.evidence["task"].get("started_at")
            cells = (
                str(f.task_id),
                _label(f.labels.get("title")),
                _label(f.labels.get("assignee")),
                age(report.checked_at, started),
                ",".join(f.codes),
                f.cause,
                why,
                _action(f, why),
            )
            rows.append(tuple(map(printable, cells)))
            # Red: repair fixes it; yellow: held back (a live or remote worker, --force).
            held = "--force" in f.action
            codes = terminal.YELLOW if held else terminal.RED
            colours.append((None,) * 4 + (codes, None, None, terminal.YELLOW if held else None))
        out.append(table(rows, style, colours))
    out += [
        printable(
            f"known {k.finding.task_id} ({','.join(k.finding.codes)}) until {k.until}: {k.reason}"
        )
        for k in report.known
    ]
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
        f"{printable(report.db)}: {s['running']} {printable(report.guarded)},"
        f" {plural(s['open_runs'], 'open run')},"
        f" {plural(s['findings'], 'finding')} ({s['repairable']} repairable)"
        + (f", {s['known']} known" if s["known"] else "")
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


def _action(finding: Finding, why: str) -> str:
    """The action for the table: a held-back task's reason only when WHY does not say it."""
    if finding.repairable:
        return finding.action
    reason, sep, rest = finding.action.partition("; ")
    if reason.startswith("none: ") and reason[len("none: ") :] in why:
        return "none" + (f"; {rest}" if sep else "")
    return finding.action or "none"


def _label(value: Any) -> str:
    """A title or an assignee on one line ("-" when empty): a newline would break the row."""
    return " ".join(str(value).split()) if value not in (None, "") else "-"


def age(now: float, since: Any) -> str:
    """How long ago `since` (epoch seconds) was, in its largest unit: 45s, 12m, 5h, 3d."""
    if not isinstance(since, (int, float)) or isinstance(since, bool):
        return "-"
    if not math.isfinite(since) or since > now:
        return "-"
    seconds = int(now - since)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


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


def _when(at: Any) -> str:
    if not isinstance(at, (int, float)) or isinstance(at, bool) or not math.isfinite(at):
        return "-"
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    except (OverflowError, OSError, ValueError):
        return "-"


def history_text(entries: list[history.Entry], style: Style = PLAIN) -> str:
    """One row per repair or undo, oldest first; a repair since undone says by which event."""
    if not entries:
        return "no repairs recorded"
    rows = [("EVENT", "AT", "WHAT", "TASK", "CODES", "BY", "ACTION")]
    for e in entries:
        by = e.payload.get("by")
        who = f"{by.get('user')}@{by.get('host')}" if isinstance(by, dict) else "-"
        action = str(e.payload.get("action") or "-")
        if e.undone_by is not None:
            action += f" (undone by #{e.undone_by})"
        if e.undoes is not None:
            action += f" (of #{e.undoes})"
        codes = ",".join(map(str, e.payload.get("codes") or [])) or "-"
        cells = (f"#{e.event_id}", _when(e.at), e.what, str(e.task_id), codes, who, action)
        rows.append(tuple(map(printable, cells)))
    return table(rows, style)
