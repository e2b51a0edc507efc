"""Apply an audit's plan: backup first, then one guarded transaction per task.

Each task is repaired in its own `BEGIN IMMEDIATE` transaction that re-reads
the row and writes with a compare-and-swap on every value the audit saw, so
a claim, completion or heartbeat that lands in between makes the repair skip
that task instead of overwriting it, and a kill at any moment leaves every
task either fully repaired or untouched.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kanban_audit import __version__
from kanban_audit.audit.board import BoardError, Schema, connect, ident, read_schema, sqlite_errors
from kanban_audit.audit.checks import Finding, Report
from kanban_audit.rulepack import RulePack

REPAIRED = "repaired"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """What happened to one planned repair."""

    task_id: str
    result: str
    detail: str


def backup(path: Path, busy_timeout_ms: int, backup_dir: Path | None, now: float) -> Path:
    """Copy the live board with the SQLite online backup API; return the copy's path.

    The copy is a consistent snapshot even while the dispatcher writes, and it
    is switched to a rollback journal so it is one self-contained file.
    """
    folder = backup_dir if backup_dir is not None else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BoardError(f"cannot create backup directory {folder}: {exc.strerror}") from None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    dest = folder / f"{path.name}.{stamp}.bak"
    serial = 1
    while dest.exists():
        serial += 1
        dest = folder / f"{path.name}.{stamp}-{serial}.bak"
    src = connect(path, busy_timeout_ms)
    try:
        out = sqlite3.connect(dest)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode = DELETE")
        finally:
            out.close()
    except sqlite3.Error as exc:
        dest.unlink(missing_ok=True)
        raise BoardError(f"backup to {dest} failed: {exc}") from None
    finally:
        src.close()
    return dest


def take_write_lock(conn: sqlite3.Connection) -> None:
    """Prove the write lock can be had within the busy timeout before anything is written."""
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("ROLLBACK")


def _where_seen(seen: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses = [f"{ident(col)} IS ?" for col in seen]
    return " AND ".join(clauses), list(seen.values())


def _changed(conn: sqlite3.Connection, pack: RulePack, finding: Finding) -> str | None:
    """Why the task no longer looks as the audit saw it, or None if it is unchanged."""
    t = pack.tasks
    seen = finding.seen
    cols = list(seen) or [t.id]
    row = conn.execute(
        f"SELECT {', '.join(ident(c) for c in cols)} FROM {ident(t.table)} WHERE {ident(t.id)} = ?",
        (finding.task_id,),
    ).fetchone()
    if not seen:
        return "the task appeared meanwhile" if row is not None else None
    if row is None:
        return "the task was deleted meanwhile"
    for col, value in zip(cols, row, strict=True):
        if value != seen[col]:
            return f"{col} changed from {seen[col]!r} to {value!r}"
    return None


def _demote(conn: sqlite3.Connection, pack: RulePack, schema: Schema, finding: Finding) -> bool:
    t = pack.tasks
    sets = [f"{ident(t.status)} = ?"]
    values: list[Any] = [t.repair_to]
    for col in (t.claim_lock, t.claim_expires, t.worker_pid, t.current_run):
        if col and col in schema.tasks:
            sets.append(f"{ident(col)} = NULL")
    where, params = _where_seen(finding.seen)
    cur = conn.execute(
        f"UPDATE {ident(t.table)} SET {', '.join(sets)} WHERE {ident(t.id)} = ? AND {where}",
        [*values, finding.task_id, *params],
    )
    return cur.rowcount == 1


def _close_run(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, run_id: int, error: str, now: int
) -> bool:
    r = pack.runs
    assert schema.runs is not None
    sets = [f"{ident(r.ended_at)} = ?"]
    values: list[Any] = [now]
    for col, value in ((r.status, r.closed_as), (r.outcome, r.closed_as), (r.error, error)):
        if col and col in schema.runs:
            sets.append(f"{ident(col)} = ?")
            values.append(value)
    cur = conn.execute(
        f"UPDATE {ident(r.table)} SET {', '.join(sets)}"
        f" WHERE {ident(r.id)} = ? AND {ident(r.ended_at)} IS NULL",
        [*values, run_id],
    )
    return cur.rowcount == 1


def _record(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, finding: Finding, now: int
) -> None:
    e = pack.events
    if schema.events is None:
        return
    payload = {
        "tool": "kanban-audit",
        "version": __version__,
        "codes": list(finding.codes),
        "action": finding.action,
        "cause": finding.cause,
        "evidence": finding.evidence,
        "prior": {"task": finding.seen, "open_runs": list(finding.runs)},
    }
    row = {
        e.task: finding.task_id,
        e.run: finding.runs[0] if finding.runs else None,
        e.kind: e.repair_kind,
        e.payload: json.dumps(payload, sort_keys=True, default=str),
        e.created_at: now,
    }
    row = {k: v for k, v in row.items() if k and k in schema.events}
    conn.execute(
        f"INSERT INTO {ident(e.table)} ({', '.join(ident(k) for k in row)})"
        f" VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


def repair_one(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, finding: Finding, now: int
) -> Outcome:
    """One task, one transaction: re-check, compare-and-swap, close runs, record."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        reason = _changed(conn, pack, finding)
        if reason is None and finding.demote and not _demote(conn, pack, schema, finding):
            reason = "the task changed during the repair"
        error = f"kanban-audit repair: {', '.join(finding.codes)}"
        if reason is None:
            for run_id in finding.runs:
                if not _close_run(conn, pack, schema, run_id, error, now):
                    reason = f"run #{run_id} was closed meanwhile"
                    break
        if reason is not None:
            conn.execute("ROLLBACK")
            return Outcome(finding.task_id, SKIPPED, reason)
        _record(conn, pack, schema, finding, now)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return Outcome(finding.task_id, REPAIRED, finding.action)


def apply_plan(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, report: Report, now: float
) -> tuple[Outcome, ...]:
    """Repair every planned finding, each in its own transaction, in task order."""
    stamp = int(now)
    return tuple(repair_one(conn, pack, schema, f, stamp) for f in report.planned)


def execute(
    path: Path,
    pack: RulePack,
    report: Report,
    *,
    busy_timeout_ms: int,
    now: float,
    backup_dir: Path | None,
    make_backup: bool = True,
) -> tuple[Path | None, tuple[Outcome, ...]]:
    """Write a planned repair: lock probe, backup, then the per-task transactions.

    Nothing is created or written unless the write lock can be had within the
    busy timeout; the backup is taken only when there is something to repair.
    """
    if not report.planned:
        return None, ()
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms, write=True)
        try:
            schema = read_schema(conn, pack, path)
            take_write_lock(conn)
            saved = backup(path, busy_timeout_ms, backup_dir, now) if make_backup else None
            return saved, apply_plan(conn, pack, schema, report, now)
        finally:
            conn.close()
