"""Put one repaired task back as it was, from the prior values its `reconciled` event kept.

A backup restores the whole board and loses everything written since; an undo
restores one task and the runs its repair closed, and only if nothing moved
them since: in one `BEGIN IMMEDIATE` transaction it checks that the task is
still as the repair left it (the repair state, its claim and current run
empty, the other values it saw unchanged), that no event was recorded on the
task after the repair, and that each run is still closed by that repair; then
it writes the prior values back with a compare-and-swap and records an event
(the pack's `undo_kind`) naming the repair it undid. Anything else is refused
with the reason and nothing is written.

Undoing the repair of a task that was written into `running` without a claim
recreates that orphan; the guard, when installed, refuses it (and so the undo).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kanban_audit import __version__
from kanban_audit.auditor import history
from kanban_audit.auditor.board import (
    BoardError,
    Schema,
    begin_immediate,
    connect,
    ident,
    read_schema,
    sqlite_errors,
)
from kanban_audit.auditor.checks import run_claim_cols
from kanban_audit.rulepack import RulePack

UNDONE = "undone"
REFUSED = "refused"


@dataclass(frozen=True)
class Plan:
    """The repair to undo and what it will write back."""

    repair: history.Entry
    task: dict[str, Any]
    runs: dict[int, dict[str, Any]]
    demoted: bool


@dataclass(frozen=True)
class Result:
    task_id: str
    result: str
    detail: str
    repair_event: int | None = None
    undo_event: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def plan(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, task: str, event: int | None
) -> Plan:
    """The repair to undo: the task's latest one not undone yet, or the one `event` names."""
    entries = [e for e in history.read(conn, pack, schema, task) if e.what == history.REPAIR]
    if event is not None:
        entries = [e for e in entries if e.event_id == event]
        if not entries:
            raise BoardError(f"event #{event} is not a kanban-audit repair of task {task!r}")
    pending = [e for e in entries if e.undone_by is None]
    if not pending:
        if entries:
            raise BoardError(
                f"task {task!r}: its repair was undone already (event #{entries[-1].undone_by})"
            )
        raise BoardError(f"task {task!r} has no kanban-audit repair to undo")
    repair = pending[-1]
    prior = repair.payload.get("prior")
    if not isinstance(prior, dict) or not isinstance(prior.get("task"), dict):
        raise BoardError(f"event #{repair.event_id} holds no prior values to restore")
    runs = prior.get("runs") if isinstance(prior.get("runs"), dict) else {}
    try:
        closed = {int(k): dict(v) for k, v in runs.items() if isinstance(v, dict)}
    except ValueError:
        raise BoardError(f"event #{repair.event_id}: a run id is not a number") from None
    restored = prior["task"]
    demoted = restored.get(pack.tasks.status) == pack.tasks.guarded
    return Plan(repair, restored, closed, demoted)


class _Moved(Exception):
    """The task or a run changed after the repair: refuse, roll back."""


def _check_and_write(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, p: Plan, now: int
) -> int:
    t, r, e = pack.tasks, pack.runs, pack.events
    task_id = p.repair.task_id
    later = conn.execute(
        f"SELECT rowid, {ident(e.kind)} FROM {ident(e.table)}"
        f" WHERE {ident(e.task)} = ? AND rowid > ? ORDER BY rowid LIMIT 1",
        (task_id, p.repair.event_id),
    ).fetchone()
    if later is not None:
        raise _Moved(f"event #{later[0]} ({later[1]!r}) was recorded on the task after the repair")
    if p.demoted:
        cleared = {c for c in (t.claim_lock, t.claim_expires, t.worker_pid, t.current_run) if c}
        cols = [c for c in p.task if c in schema.tasks and c != t.id]
        expect = {
            c: (t.repair_to if c == t.status else None if c in cleared else p.task[c]) for c in cols
        }
        sets = ", ".join(f"{ident(c)} = ?" for c in cols)
        where = "".join(f" AND {ident(c)} IS ?" for c in cols)
        done = conn.execute(
            f"UPDATE {ident(t.table)} SET {sets} WHERE {ident(t.id)} = ?{where}",
            [*(p.task[c] for c in cols), task_id, *expect.values()],
        )
        if done.rowcount != 1:
            raise _Moved("the task is no longer as the repair left it")
    claim = run_claim_cols(pack, schema)
    reopen = [(r.ended_at, None)]
    reopen += [
        (c, v)
        for c, v in ((r.status, r.open_status), (r.outcome, None), (r.error, None))
        if c and c in (schema.runs or ())
    ]
    for run_id, seen in sorted(p.runs.items()):
        values = [(c, seen.get(c)) for c in claim]
        sets = ", ".join(f"{ident(c)} = ?" for c, _ in [*reopen, *values])
        closed_as = [
            (c, r.closed_as) for c in (r.status, r.outcome) if c and c in (schema.runs or ())
        ]
        where = f" AND {ident(r.ended_at)} IS ?" + "".join(
            f" AND {ident(c)} IS ?" for c, _ in [*closed_as, *((c, None) for c in claim)]
        )
        done = conn.execute(
            f"UPDATE {ident(r.table)} SET {sets} WHERE {ident(r.id)} = ?{where}",
            [
                *(v for _, v in [*reopen, *values]),
                run_id,
                p.repair.at,
                *(v for _, v in closed_as),
                *(None for _ in claim),
            ],
        )
        if done.rowcount != 1:
            raise _Moved(f"run #{run_id} is no longer as the repair closed it")
    payload = {
        "tool": history.TOOL,
        "version": __version__,
        "undoes": p.repair.event_id,
        "codes": p.repair.payload.get("codes", []),
        "action": f"restore {t.status} {p.task.get(t.status)!r}" if p.demoted else "reopen runs",
        "by": history.who(),
        "restored": {
            "task": p.task if p.demoted else None,
            "runs": {str(k): v for k, v in p.runs.items()},
        },
    }
    values = {
        e.task: task_id,
        e.run: min(p.runs) if p.runs else None,
        e.kind: e.undo_kind,
        e.payload: json.dumps(payload, separators=(",", ":"), default=str),
        e.created_at: now,
    }
    cols = [c for c in values if c and c in (schema.events or ())]
    cur = conn.execute(
        f"INSERT INTO {ident(e.table)} ({', '.join(ident(c) for c in cols)})"
        f" VALUES ({', '.join('?' * len(cols))})",
        [values[c] for c in cols],
    )
    return int(cur.lastrowid or 0)


def inspect(path: Path, pack: RulePack, busy_timeout_ms: int, task: str, event: int | None) -> Plan:
    """The plan, read-only: what `undo` would restore (shown before the question)."""
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms)
        try:
            schema = read_schema(conn, pack, path)
            if schema.events is None:
                raise BoardError(
                    f"nothing to undo: {path} has no event table {pack.events.table!r}"
                )
            return plan(conn, pack, schema, task, event)
        finally:
            conn.close()


def undo(
    path: Path,
    pack: RulePack,
    busy_timeout_ms: int,
    task: str,
    now: float,
    event: int | None = None,
    on_lock_wait: Callable[[], None] | None = None,
) -> Result:
    """Undo the task's repair in one transaction, or refuse (nothing written) and say why."""
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms, write=True)
        try:
            schema = read_schema(conn, pack, path)
            if schema.events is None:
                raise BoardError(
                    f"nothing to undo: {path} has no event table {pack.events.table!r}"
                )
            begin_immediate(conn, on_lock_wait)
            try:
                p = plan(conn, pack, schema, task, event)
                undo_event = _check_and_write(conn, pack, schema, p, int(now))
            except _Moved as moved:
                conn.execute("ROLLBACK")
                return Result(task, REFUSED, f"{moved}; nothing written", p.repair.event_id)
            except sqlite3.IntegrityError as exc:  # the guard's RAISE(ABORT), among others
                conn.execute("ROLLBACK")
                return Result(task, REFUSED, f"the board refused it: {exc}; nothing written")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()
    what = (
        f"restored {pack.tasks.status} {p.task.get(pack.tasks.status)!r}"
        if p.demoted
        else "task untouched"
    )
    runs = ", ".join(f"#{k}" for k in sorted(p.runs))
    detail = what + (f"; reopened run {runs}" if runs else "")
    return Result(task, UNDONE, detail, p.repair.event_id, undo_event)


def describe(p: Plan, pack: RulePack) -> str:
    """What the undo will write, for the person asked to confirm it."""
    t = pack.tasks
    lines = [
        f"repair #{p.repair.event_id} of task {p.repair.task_id}"
        f" ({', '.join(map(str, p.repair.payload.get('codes') or []))}):"
        f" {p.repair.payload.get('action')}"
    ]
    if p.demoted:
        values = ", ".join(f"{k} = {v!r}" for k, v in p.task.items() if k != t.id)
        lines.append(f"restore: {values}")
    lines += [f"reopen run #{k}: {v}" for k, v in sorted(p.runs.items())]
    return "\n".join(lines)
