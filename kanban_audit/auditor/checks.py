"""The board's invariants as a few set-based queries, turned into findings.

Two queries select the only rows that can break an invariant: the running
tasks (an index search on status) and the open runs (the one sequential scan:
boards keep no index on a run's end time). The runs and tasks those rows point
at are then fetched by key in one query each, and the events of the flagged
tasks in one more. Python looks only at these rows (about 1% of the board) to
add liveness and the cause, so a million-task board costs about as much as
reading its runs once, all in one read transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kanban_audit.auditor import liveness
from kanban_audit.auditor.board import Schema, connect, ident, read_schema, sqlite_errors
from kanban_audit.auditor.guard import GuardState, read_state
from kanban_audit.rulepack import RulePack

# How a task got into the guarded state, read from its events.
CLAIM_PATH = "claim-path"
DIRECT_WRITE = "direct-write"
RUN_WITHOUT_CLAIM = "run-without-claim"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Options:
    """The clock and policy an audit runs under (explicit so runs are reproducible)."""

    now: float
    grace: float
    hostname: str
    force: bool = False


@dataclass(frozen=True)
class Finding:
    """Everything wrong with one task, what repair would do, and why.

    `seen` holds the exact task column values the audit read; repair writes
    only if they are unchanged. `demote` says whether the task itself is
    moved out of the guarded state; `runs` are the open runs to close and
    `runs_seen` the claim values read on each (compared and cleared the
    same way). `not_before` is the newest time the repair writes after (a
    start, a heartbeat, the task's latest event) and what it is: a repair
    clock older than that would write history that runs backwards.
    """

    task_id: str
    codes: tuple[str, ...]
    repairable: bool
    action: str
    cause: str
    why: tuple[str, ...]
    evidence: dict[str, Any]
    demote: bool
    runs: tuple[int, ...]
    seen: dict[str, Any] = field(default_factory=dict)
    runs_seen: dict[int, dict[str, Any]] = field(default_factory=dict)
    not_before: tuple[float, str] | None = None


@dataclass(frozen=True)
class Report:
    """The outcome of one audit."""

    db: str
    checked_at: float
    grace: float
    findings: tuple[Finding, ...]
    running: int
    open_runs: int
    skipped: tuple[tuple[str, str], ...]
    guard: GuardState | None = None

    @property
    def planned(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.repairable)


class _Cols:
    """The pack's task columns that exist on this board, keyed by role."""

    ROLES = (
        "id",
        "status",
        "claim_lock",
        "claim_expires",
        "worker_pid",
        "current_run",
        "heartbeat",
        "started_at",
        "worker_started_at",
    )

    def __init__(self, pack: RulePack, schema: Schema) -> None:
        self.names = {
            role: getattr(pack.tasks, role)
            for role in self.ROLES
            if getattr(pack.tasks, role) and getattr(pack.tasks, role) in schema.tasks
        }

    def has(self, role: str) -> bool:
        return role in self.names

    def select(self, alias: str) -> str:
        return ", ".join(f"{alias}.{ident(name)}" for name in self.names.values())


def skipped_checks(pack: RulePack, schema: Schema) -> tuple[tuple[str, str], ...]:
    """Which checks this board's schema makes impossible, and why."""
    cols = _Cols(pack, schema)
    out: list[tuple[str, str]] = []
    if schema.runs is None:
        reason = _absent("usable run table", pack.runs.table, "[runs] table")
        out += [("KD001", reason), ("KD005", reason)]
    if not cols.has("claim_lock") and not cols.has("claim_expires"):
        out.append(("KD002", "no claim columns"))
    if not cols.has("claim_expires"):
        out.append(("KD003", _absent("column", pack.tasks.claim_expires, "[tasks] claim_expires")))
    if not cols.has("worker_pid"):
        out.append(("KD004", _absent("column", pack.tasks.worker_pid, "[tasks] worker_pid")))
    if not cols.has("claim_lock"):
        lock = _absent("column", pack.tasks.claim_lock, "[tasks] claim_lock")
        out.append(("KD006", f"{lock} to tell the claiming host"))
    if schema.events is None:
        out.append(("cause", _absent("usable event table", pack.events.table, "[events] table")))
    return tuple(out)


def _absent(what: str, name: str, key: str) -> str:
    """Why a check cannot run: the board lacks what the pack names, or the pack
    names nothing (an optional key left out)."""
    return f"no {what} {name!r}" if name else f"the rule pack gives no {key}"


def _running_tasks(conn: sqlite3.Connection, pack: RulePack, cols: _Cols) -> list[dict[str, Any]]:
    """Every task in the guarded state (an index search on the status column)."""
    t = pack.tasks
    sql = f"SELECT {cols.select('t')} FROM {ident(t.table)} AS t WHERE t.{ident(t.status)} = ?"
    names = list(cols.names.values())
    return [dict(zip(names, row, strict=True)) for row in conn.execute(sql, (t.guarded,))]


def run_claim_cols(pack: RulePack, schema: Schema) -> list[str]:
    """The run's claim columns this board has: what a repair compares and clears on a run."""
    r = pack.runs
    wanted = (r.claim_lock, r.claim_expires, r.worker_pid)
    return [c for c in wanted if c and c in (schema.runs or ())]


def _run_cols(pack: RulePack, schema: Schema) -> list[str]:
    r = pack.runs
    wanted = (r.id, r.task, r.ended_at, r.started_at)
    return [c for c in wanted if c and c in (schema.runs or ())] + run_claim_cols(pack, schema)


def _open_runs(conn: sqlite3.Connection, pack: RulePack, schema: Schema) -> list[dict[str, Any]]:
    """Every open run: the one full scan, since boards keep no index on the end time."""
    r = pack.runs
    names = _run_cols(pack, schema)
    sql = (
        f"SELECT {', '.join(f'r.{ident(c)}' for c in names)} FROM {ident(r.table)} AS r"
        f" WHERE r.{ident(r.ended_at)} IS NULL"
    )
    return [dict(zip(names, row, strict=True)) for row in conn.execute(sql)]


def _rows_by_key(
    conn: sqlite3.Connection, table: str, names: list[str], key: str, keys: Iterable[Any]
) -> dict[Any, dict[str, Any]]:
    """The rows whose `key` is one of `keys`, in one indexed query."""
    wanted = sorted(set(keys), key=str)
    if not wanted:
        return {}
    sql = (
        f"SELECT {', '.join(ident(c) for c in names)} FROM {ident(table)}"
        f" WHERE {ident(key)} IN (SELECT value FROM json_each(?))"
    )
    rows = (dict(zip(names, row, strict=True)) for row in conn.execute(sql, (json.dumps(wanted),)))
    return {row[key]: row for row in rows}


def _causes(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, task_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The latest event that put each task into the guarded state, in one query."""
    e = pack.events
    ids = sorted(set(task_ids))
    if schema.events is None or not ids:
        return {}
    kinds = list(e.claim_kinds) + list(e.status_kinds)
    keys = [k for k in e.status_keys if k]
    new_status = (
        "CASE WHEN json_valid(e.{p}) THEN coalesce({x}) END".format(
            p=ident(e.payload),
            x=", ".join(f"json_extract(e.{ident(e.payload)}, ?)" for _ in keys) + ", NULL",
        )
        if keys and e.payload in schema.events
        else "NULL"
    )
    created = f"e.{ident(e.created_at)}" if e.created_at in schema.events else "NULL"
    run = f"e.{ident(e.run)}" if e.run in schema.events else "NULL"
    sql = (
        f"SELECT e.{ident(e.task)}, e.rowid, e.{ident(e.kind)}, {created}, {run}, {new_status}"
        f" FROM {ident(e.table)} AS e"
        f" WHERE e.{ident(e.task)} IN (SELECT value FROM json_each(?))"
        f" AND e.{ident(e.kind)} IN ({', '.join('?' * len(kinds))})"
        f" ORDER BY e.{ident(e.task)}, e.rowid"
    )
    params = [f"$.{k}" for k in keys if new_status != "NULL"]
    params += [json.dumps(ids), *kinds]
    latest: dict[str, dict[str, Any]] = {}
    for task_id, event_id, kind, at, run_id, status in conn.execute(sql, params):
        if kind in e.claim_kinds:
            path = CLAIM_PATH
        elif status == pack.tasks.guarded:
            path = DIRECT_WRITE
        else:
            continue
        latest[task_id] = {
            "path": path,
            "event_id": event_id,
            "kind": kind,
            "created_at": at,
            "run_id": run_id,
        }
    return latest


def _latest_events(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, task_ids: Iterable[str]
) -> dict[str, tuple[int, Any]]:
    """Each task's newest event time and its id, of any kind, in one grouped query."""
    e = pack.events
    ids = sorted(set(task_ids))
    if schema.events is None or e.created_at not in schema.events or not ids:
        return {}
    sql = (
        f"SELECT e.{ident(e.task)}, e.rowid, max(e.{ident(e.created_at)})"
        f" FROM {ident(e.table)} AS e WHERE e.{ident(e.task)} IN (SELECT value FROM json_each(?))"
        f" GROUP BY e.{ident(e.task)}"
    )
    return {task: (rowid, at) for task, rowid, at in conn.execute(sql, (json.dumps(ids),))}


def _not_before(
    pack: RulePack,
    task: dict[str, Any],
    runs: dict[int, dict[str, Any]],
    event: tuple[int, Any] | None,
) -> tuple[float, str] | None:
    """The newest time among those a repair writes after, and what it is."""
    t, r = pack.tasks, pack.runs
    times = [(task.get(c), c) for c in (t.started_at, t.heartbeat) if c]
    times += [(run.get(r.started_at), f"run #{i} {r.started_at}") for i, run in runs.items()]
    if event is not None:
        times.append((event[1], f"event #{event[0]} {pack.events.created_at}"))
    numbers = [
        (float(at), what)
        for at, what in times
        if isinstance(at, (int, float)) and not isinstance(at, bool)
    ]
    return max(numbers, default=None)


def _describe_cause(
    pack: RulePack, event: dict[str, Any] | None, unclaimed_runs: list[int]
) -> dict[str, Any]:
    guarded = pack.tasks.guarded
    if event is not None and event["path"] == CLAIM_PATH:
        detail = (
            f"entered {guarded} through a {event['kind']!r} event (#{event['event_id']}):"
            " the claim path; then the worker died or the claim lapsed"
        )
        return {**event, "detail": detail}
    if event is not None:
        detail = (
            f"entered {guarded} through a {event['kind']!r} event (#{event['event_id']})"
            f" that set the status directly, bypassing the claim path"
        )
        return {**event, "detail": detail}
    if unclaimed_runs:
        runs = ", ".join(f"#{r}" for r in unclaimed_runs)
        detail = f"no claim event; open run {runs} has no claim (backfilled outside the claim path)"
        return {"path": RUN_WITHOUT_CLAIM, "run_ids": unclaimed_runs, "detail": detail}
    return {"path": UNKNOWN, "detail": f"no event records how it entered {guarded}"}


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _task_checks(
    pack: RulePack,
    schema: Schema,
    task: dict[str, Any],
    run: dict[str, Any] | None,
    opened: list[dict[str, Any]],
    opts: Options,
    probe: liveness.ProcessTable,
) -> tuple[dict[str, str], liveness.Liveness]:
    """KD001-KD004 and KD006 for one running task: the check text behind each code."""
    t, r = pack.tasks, pack.runs
    checks: dict[str, str] = {}
    if schema.runs is not None:
        if t.current_run and t.current_run in task:
            run_id = task[t.current_run]
            if _empty(run_id):
                checks["KD001"] = f"{t.current_run} is empty"
            elif run is None:
                checks["KD001"] = f"{t.current_run} = {run_id}: no such run"
            elif run.get(r.ended_at) is not None:
                checks["KD001"] = f"run #{run_id} ended at {run[r.ended_at]}"
            elif run.get(r.task) != task[t.id]:
                checks["KD001"] = f"run #{run_id} belongs to task {run.get(r.task)!r}"
        elif not opened:
            checks["KD001"] = "no open run for this task"
    empty = [c for c in (t.claim_lock, t.claim_expires) if c in task and _empty(task[c])]
    if empty:
        checks["KD002"] = " and ".join(empty) + (" is empty" if len(empty) == 1 else " are empty")
    expires = task.get(t.claim_expires) if t.claim_expires else None
    if isinstance(expires, (int, float)) and expires + opts.grace < opts.now:
        checks["KD003"] = f"claim expired {opts.now - expires:.0f} s ago (grace {opts.grace:.0f} s)"
    claimed_at = (run or {}).get(r.started_at)
    if claimed_at is None and t.started_at:
        claimed_at = task.get(t.started_at)
    live = liveness.check(
        task.get(t.claim_lock) if t.claim_lock else None,
        task.get(t.worker_pid) if t.worker_pid in task else None,
        task.get(t.worker_started_at) if t.worker_started_at else None,
        claimed_at,
        now=opts.now,
        grace=opts.grace,
        hostname=opts.hostname,
        probe=probe,
    )
    if live.state == liveness.DEAD and t.worker_pid in task:
        checks["KD004"] = live.detail
    if live.state == liveness.REMOTE:
        no_pid_late = (
            live.pid is None
            and isinstance(claimed_at, (int, float))
            and opts.now - claimed_at >= opts.grace
        )
        if checks or no_pid_late:
            checks["KD006"] = live.detail
    return checks, live


def _decide(
    pack: RulePack,
    codes: set[str],
    running: bool,
    live: liveness.Liveness | None,
    dangling: list[int],
    open_ids: list[int],
    force: bool,
) -> tuple[bool, bool, tuple[int, ...], str]:
    """Whether a finding is repairable, and the action: never race a live or remote worker."""
    problem = bool(codes - {"KD005"})
    blocked = live is not None and live.state in (liveness.ALIVE, liveness.REMOTE)
    demote = running and problem and (force or not blocked)
    runs = tuple(sorted(set(open_ids) | set(dangling))) if demote else tuple(sorted(dangling))
    closing = ", ".join(f"#{r}" for r in runs)
    if demote:
        action = f"demote to {pack.tasks.repair_to}" + (f"; close run {closing}" if runs else "")
    elif runs:
        action = f"close run {closing} as {pack.runs.closed_as}"
    else:
        action = ""
    if running and problem and not demote:
        assert live is not None
        reason = (
            f"worker alive (pid {live.pid})"
            if live.state == liveness.ALIVE
            else f"claimed on host {live.host!r}"
        )
        keep = f"none: {reason}; --force to demote"
        action = f"{action}; task {keep}" if action else keep
    return bool(runs) or demote, demote, runs, action


def run_checks(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, db: str, opts: Options
) -> Report:
    """Audit a board: the two candidate queries, then per-candidate evidence."""
    t, r = pack.tasks, pack.runs
    cols = _Cols(pack, schema)
    running = _running_tasks(conn, pack, cols)
    open_runs = _open_runs(conn, pack, schema) if schema.runs is not None else []
    open_by_id = {run[r.id]: run for run in open_runs}
    open_by_task: dict[Any, list[dict[str, Any]]] = {}
    for run in open_runs:
        open_by_task.setdefault(run[r.task], []).append(run)
    current: dict[Any, dict[str, Any]] = {}
    if schema.runs is not None and cols.has("current_run"):
        pointed = {task[t.current_run] for task in running} - {None, ""}
        current = _rows_by_key(
            conn, r.table, _run_cols(pack, schema), r.id, pointed - open_by_id.keys()
        )
        current.update(open_by_id)

    probe = liveness.ProcessTable()
    pending: dict[Any, dict[str, Any]] = {}
    for task in running:
        task_id = task[t.id]
        run = current.get(task.get(t.current_run))
        opened = open_by_task.get(task_id, [])
        checks, live = _task_checks(pack, schema, task, run, opened, opts, probe)
        entry = {"running": True, "task": task, "run": run, "checks": checks, "live": live}
        pending[task_id] = {**entry, "open": opened, "dangling": []}

    elsewhere = {run[r.task] for run in open_runs} - pending.keys()
    task_cols = [cols.names[c] for c in ("id", "status", "current_run") if cols.has(c)]
    owners = _rows_by_key(conn, t.table, task_cols, t.id, elsewhere)
    for run in open_runs:
        task_id, run_id = run[r.task], run[r.id]
        task = pending[task_id]["task"] if task_id in pending else owners.get(task_id)
        if task is None:
            why = f"run #{run_id}: its task {task_id!r} does not exist"
        elif task[t.status] != t.guarded:
            why = f"run #{run_id}: its task is {task[t.status]!r}"
        elif t.current_run in task and task[t.current_run] != run_id:
            why = f"run #{run_id}: its task points to run {task[t.current_run]!r}"
        else:
            continue
        entry = pending.setdefault(
            task_id,
            {
                "running": False,
                "task": task or {},
                "run": None,
                "checks": {},
                "live": None,
                "open": open_by_task[task_id],
                "dangling": [],
            },
        )
        entry["dangling"].append(run_id)
        prior = entry["checks"].get("KD005")
        entry["checks"]["KD005"] = f"{prior}; {why}" if prior else why

    flagged = {k: v for k, v in pending.items() if v["checks"]}
    causes = _causes(conn, pack, schema, flagged)
    latest = _latest_events(conn, pack, schema, flagged)
    findings = []
    for task_id in sorted(flagged, key=str):
        entry = flagged[task_id]
        entry["latest_event"] = latest.get(task_id)
        finding = _finding(pack, schema, task_id, entry, causes.get(task_id), opts, open_by_id)
        findings.append(finding)
    return Report(
        db=db,
        checked_at=opts.now,
        grace=opts.grace,
        findings=tuple(findings),
        running=len(running),
        open_runs=len(open_runs),
        skipped=skipped_checks(pack, schema),
    )


def _finding(
    pack: RulePack,
    schema: Schema,
    task_id: Any,
    entry: dict[str, Any],
    event: dict[str, Any] | None,
    opts: Options,
    open_by_id: dict[Any, dict[str, Any]],
) -> Finding:
    r = pack.runs
    checks: dict[str, str] = entry["checks"]
    codes = set(checks)
    opened = entry["open"]
    open_ids = [o[r.id] for o in opened]
    live: liveness.Liveness | None = entry["live"]
    repairable, demote, runs, action = _decide(
        pack, codes, entry["running"], live, entry["dangling"], open_ids, opts.force
    )
    unclaimed = [o[r.id] for o in opened if _empty(o.get(r.claim_lock))] if r.claim_lock else []
    cause = (
        _describe_cause(pack, event, unclaimed)
        if schema.events is not None
        else {"path": UNKNOWN, "detail": "no event table"}
    )
    seen = dict(entry["task"])
    claim_cols = run_claim_cols(pack, schema)
    runs_seen = {i: {c: open_by_id[i][c] for c in claim_cols} for i in runs}
    closing = {i: open_by_id[i] for i in runs}
    evidence = {
        "task": seen,
        "run": entry["run"],
        "open_runs": open_ids,
        "checks": dict(sorted(checks.items())),
        "liveness": live.as_dict() if live else None,
        "cause": cause,
    }
    return Finding(
        task_id=task_id,
        codes=tuple(sorted(codes)),
        repairable=repairable,
        action=action,
        cause=cause["path"],
        why=tuple(f"{c}: {checks[c]}" for c in sorted(checks)),
        evidence=evidence,
        demote=demote,
        runs=runs,
        seen=seen,
        runs_seen=runs_seen,
        not_before=_not_before(pack, seen, closing, entry["latest_event"]) if repairable else None,
    )


def audit_board(path: Path, pack: RulePack, opts: Options, busy_timeout_ms: int) -> Report:
    """Open the board read-only, read its schema and run every possible check."""
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms)
        try:
            schema = read_schema(conn, pack, path)
            conn.execute("BEGIN")  # one read transaction: every query sees one snapshot
            report = run_checks(conn, pack, schema, str(path), opts)
            return replace(report, guard=read_state(conn, pack, schema))
        finally:
            conn.close()
