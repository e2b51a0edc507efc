"""Render an audit or a repair: a table for people, JSON (DESIGN.md keys) for scripts."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from kanban_audit import JSON_VERSION, __version__
from kanban_audit.audit.checks import Finding, Report
from kanban_audit.audit.repair import REPAIRED, SKIPPED, Applied


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
    doc["summary"]["stopped"] = done.stopped
    return doc


def dumps(doc: dict[str, Any]) -> str:
    """Compact JSON: the C encoder, fast on boards with thousands of findings."""
    return json.dumps(doc, separators=(",", ":"), default=str)


def table(rows: list[tuple[str, ...]]) -> str:
    """Left-aligned columns; the last column is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def audit_text(report: Report) -> str:
    """The terminal view: one row per task (task, codes, cause, why, action) and a summary."""
    out = []
    if report.findings:
        rows = [("TASK", "CODES", "CAUSE", "WHY", "ACTION")]
        for f in report.findings:
            action = f.action if f.repairable else f.action or "none"
            rows.append((str(f.task_id), ",".join(f.codes), f.cause, "; ".join(f.why), action))
        out.append(table(rows))
    s = summary(report)
    out.append(
        f"{report.db}: {s['running']} running, {s['open_runs']} open runs,"
        f" {s['findings']} finding{'' if s['findings'] == 1 else 's'}"
        f" ({s['repairable']} repairable)"
    )
    out += [f"skipped {c['check']}: {c['reason']}" for c in s["skipped_checks"]]
    return "\n".join(out)


def repair_text(report: Report, applied: bool, done: Applied) -> str:
    """What was (or would be) written, task by task."""
    if not applied:
        n = len(report.planned)
        tail = "nothing to repair" if not n else f"dry run: {n} repairs planned; --apply to write"
        return tail
    lines = [f"backup: {done.backup}"] if done.backup else []
    lines += [f"{o.result} {o.task_id}: {o.detail}" for o in done.outcomes]
    repaired = sum(o.result == REPAIRED for o in done.outcomes)
    tail = f"repaired {repaired}, skipped {len(done.outcomes) - repaired}"
    lines.append(tail + (f" (stopped: {done.stopped})" if done.stopped else ""))
    return "\n".join(lines)
