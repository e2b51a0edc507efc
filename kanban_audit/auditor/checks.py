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
import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kanban_audit import jsontext
from kanban_audit.auditor import fields, liveness, workers
from kanban_audit.auditor.board import (
    Schema,
    connect,
    ident,
    read_schema,
    sqlite_errors,
    tolerant_text,
    undecodable,
)
from kanban_audit.auditor.guard import GuardState, Trigger, others, read_state
from kanban_audit.rulepack import RulePack

# How a task got into the guarded state, read from its events.
CLAIM_PATH = "claim-path"
DIRECT_WRITE = "direct-write"
RUN_WITHOUT_CLAIM = "run-without-claim"
UNKNOWN = "unknown"
# The action of a task holding values the checks cannot read as their kind.
ODD_ACTION = "odd values on the board (see why); inspect by hand"
# A stray worker's cause: its task left the run and nothing stopped the worker.
RUN_OUTLIVED = "run-outlived"


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
    strays: tuple[workers.Stray, ...] = ()
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Known:
    """A finding the operator acknowledged: why, and until when (an ISO date)."""

    finding: Finding
    reason: str
    until: str


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
    # The pack's guarded state: what `running` counts tasks in.
    guarded: str = "running"
    guard: GuardState | None = None
    # Triggers of the board's own on the tables a repair writes (not the guard's).
    triggers: tuple[Trigger, ...] = ()
    processes: workers.Scan | None = None
    # Findings acknowledged in the configuration (policy.py): reported, never counted or repaired.
    known: tuple[Known, ...] = ()

    @property
    def planned(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.repairable)


# Task columns read only to show which task a finding is: never compared by a repair.
LABELS = ("title", "assignee")


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
        *LABELS,
    )

    # What each role's value must be (fields.py); the status is only ever compared.
    KINDS = {
        "id": fields.KEY,
        "claim_lock": fields.TEXT,
        "claim_expires": fields.CLAIM_TIME,
        "worker_pid": fields.PID,
        "current_run": fields.RUN_REF,
        "heartbeat": fields.TIME,
        "started_at": fields.TIME,
        "worker_started_at": fields.TIME,
    }

    def __init__(self, pack: RulePack, schema: Schema) -> None:
        self.names = {
            role: getattr(pack.tasks, role)
            for role in self.ROLES
            if getattr(pack.tasks, role) and getattr(pack.tasks, role) in schema.tasks
        }
        self.kinds = {self.names[r]: kind for r, kind in self.KINDS.items() if r in self.names}

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
    elif not cols.has("claim_lock"):
        lock = _absent("column", pack.tasks.claim_lock, "[tasks] claim_lock")
        out.append(("KD004", f"{lock} to tell a PID's host"))
    if schema.events is None:
        out.append(("cause", _absent("usable event table", pack.events.table, "[events] table")))
    if not pack.workers.enabled:
        out.append(("KD007", "the rule pack names no worker environment ([workers])"))
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


def _run_kinds(pack: RulePack) -> dict[str, fields.Kind]:
    """What each run column the checks read must be (fields.py)."""
    r = pack.runs
    kinds = {
        r.id: fields.RUN_ID,
        r.task: fields.KEY,
        r.started_at: fields.TIME,
        r.claim_lock: fields.TEXT,
        r.claim_expires: fields.CLAIM_TIME,
        r.worker_pid: fields.PID,
    }
    return {column: kind for column, kind in kinds.items() if column}


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
    conn: sqlite3.Connection,
    table: str,
    names: list[str],
    key: str,
    keys: Iterable[Any],
    *,
    as_given: bool = False,
) -> dict[Any, dict[str, Any]]:
    """The rows whose `key` is one of `keys`, in one indexed query.

    Keyed by the row's own key, or with `as_given` by the value asked for: the
    board compares with its column's type (the text "5" finds the integer id
    5), and a key read from an environment is text whatever the board keeps.
    """
    wanted = sorted(set(keys), key=str)
    if not wanted:
        return {}
    sql = (
        f"SELECT asked.value, {', '.join(f'row.{ident(c)}' for c in names)}"
        f" FROM json_each(?) AS asked JOIN {ident(table)} AS row"
        f" ON row.{ident(key)} = asked.value"
    )
    found = {}
    for asked, *row in conn.execute(sql, (json.dumps(wanted, allow_nan=False),)):
        values = dict(zip(names, row, strict=True))
        found[asked if as_given else values[key]] = values
    return found


def _causes(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, task_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The latest event that put each task into the guarded state, in one query."""
    e = pack.events
    ids = sorted(set(task_ids), key=str)
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
    params += [json.dumps(ids, allow_nan=False), *kinds]
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
    ids = sorted(set(task_ids), key=str)
    if schema.events is None or e.created_at not in schema.events or not ids:
        return {}
    sql = (
        f"SELECT e.{ident(e.task)}, e.rowid, max(e.{ident(e.created_at)})"
        f" FROM {ident(e.table)} AS e WHERE e.{ident(e.task)} IN (SELECT value FROM json_each(?))"
        f" GROUP BY e.{ident(e.task)}"
    )
    return {
        task: (rowid, at)
        for task, rowid, at in conn.execute(sql, (json.dumps(ids, allow_nan=False),))
    }


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
        if isinstance(at, (int, float)) and not isinstance(at, bool) and math.isfinite(at)
    ]
    return max(numbers, default=None)


def _describe_cause(
    pack: RulePack, event: dict[str, Any] | None, unclaimed_runs: list[int], bare: bool
) -> dict[str, Any]:
    """How the task entered the guarded state, from its events and what the claim path leaves.

    `bare`: running with no claim, no run and no event. The claim path writes all
    three in one transaction, so only a write that bypassed it (a plain UPDATE)
    leaves a task like that.
    """
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
        detail = (
            f"no claim event; open run {runs} has no claim: a run made outside the claim"
            f" path (Hermes' connect() back-fills one for a task set to running directly)"
        )
        return {"path": RUN_WITHOUT_CLAIM, "run_ids": unclaimed_runs, "detail": detail}
    if bare:
        detail = (
            f"no claim, no run and no event: the claim path writes all three, so the"
            f" status was set to {guarded} directly"
        )
        return {"path": DIRECT_WRITE, "detail": detail}
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
    live = liveness.check(
        task.get(t.claim_lock) if t.claim_lock else None,
        task.get(t.worker_pid) if t.worker_pid in task else None,
        task.get(t.worker_started_at) if t.worker_started_at else None,
        hostname=opts.hostname,
        probe=probe,
    )
    if live.state == liveness.DEAD and t.worker_pid in task:
        checks["KD004"] = live.detail
    if live.state == liveness.REMOTE and checks:
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
    problem = bool(codes - {"KD005", "KD007"})
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
        if live.state == liveness.ALIVE:
            reason = f"worker alive (pid {live.pid})"
        elif live.host is not None:
            reason = f"claimed on host {live.host!r}"
        else:
            reason = "its worker's host is unknown"
        keep = f"none: {reason}; --force to demote"
        action = f"{action}; task {keep}" if action else keep
    return bool(runs) or demote, demote, runs, action


def _odd_run(pack: RulePack, run: dict[str, Any], kinds: dict[str, fields.Kind]) -> dict[str, str]:
    """The run's values that do not fit their kinds, named `run #<id> <column>`."""
    return fields.problems(run, kinds, f"run #{fields.quoted(run.get(pack.runs.id))} ")


def _entry(
    pending: dict[Any, dict[str, Any]],
    task_id: Any,
    task: dict[str, Any] | None,
    open_by_task: dict[Any, list[dict[str, Any]]],
) -> dict[str, Any]:
    """The pending entry of a task that owns open runs, made if the task is not running."""
    return pending.setdefault(
        task_id,
        {
            "running": False,
            "task": task or {},
            "run": None,
            "checks": {},
            "live": None,
            "open": open_by_task.get(task_id, []),
            "dangling": [],
            "odd": {},
        },
    )


def worker_rows(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, named: Iterable[workers.Worker]
) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]] | None]:
    """The rows of the tasks and runs that workers name (runs None: no run table); the
    tasks keyed by the text the workers' environments name them by."""
    t, r = pack.tasks, pack.runs
    named = list(named)
    roles = (t.id, t.status, t.current_run, *(getattr(t, label) for label in LABELS))
    task_cols = [c for c in roles if c and c in schema.tasks]
    tasks = _rows_by_key(conn, t.table, task_cols, t.id, {w.task for w in named}, as_given=True)
    if schema.runs is None:
        return tasks, None
    run_cols = [c for c in (r.id, r.task, r.ended_at, r.outcome) if c and c in schema.runs]
    return tasks, _rows_by_key(conn, r.table, run_cols, r.id, {w.run for w in named} - {None})


def _add_strays(
    conn: sqlite3.Connection,
    pack: RulePack,
    schema: Schema,
    scan: workers.Scan,
    opts: Options,
    pending: dict[Any, dict[str, Any]],
    open_by_task: dict[Any, list[dict[str, Any]]],
) -> None:
    """KD007: this board's workers whose run is over, judged on the few rows they name."""
    tasks, runs = worker_rows(conn, pack, schema, scan.workers)
    for stray in workers.judge(pack, scan.board, scan.workers, tasks, runs, opts.now, opts.grace):
        task = tasks.get(stray.worker.task)
        task_id = stray.worker.task if task is None else task[pack.tasks.id]
        entry = _entry(pending, task_id, task, open_by_task)
        entry.setdefault("strays", []).append(stray)
        prior = entry["checks"].get("KD007")
        entry["checks"]["KD007"] = f"{prior}; {stray.why}" if prior else stray.why


def run_checks(
    conn: sqlite3.Connection,
    pack: RulePack,
    schema: Schema,
    db: str,
    opts: Options,
    scan: workers.Scan | None = None,
) -> Report:
    """Audit a board: the two candidate queries, then per-candidate evidence.

    `scan` is this host's processes, read before the snapshot (see workers.py).
    """
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
        pointed = {task[t.current_run] for task in running if fields.run_id(task[t.current_run])}
        current = _rows_by_key(
            conn, r.table, _run_cols(pack, schema), r.id, pointed - open_by_id.keys()
        )
        current.update(open_by_id)

    probe = liveness.ProcessTable()
    run_kinds = _run_kinds(pack)
    pending: dict[Any, dict[str, Any]] = {}
    held: dict[Any, Any] = {}  # the current run of each task holding odd values: left alone
    for task in running:
        task_id = task[t.id]
        run = current.get(task.get(t.current_run))
        opened = open_by_task.get(task_id, [])
        odd = fields.problems(task, cols.kinds)
        for seen in [run, *opened] if run else opened:
            odd.update(_odd_run(pack, seen, run_kinds))
        checks, live = (
            ({}, None) if odd else _task_checks(pack, schema, task, run, opened, opts, probe)
        )
        if odd and run is not None:
            held[run[r.id]] = task_id
        entry = {"running": True, "task": task, "run": run, "checks": checks, "live": live}
        pending[task_id] = {**entry, "open": opened, "dangling": [], "odd": odd}

    elsewhere = {run[r.task] for run in open_runs if fields.key(run[r.task])} - pending.keys()
    roles = ("id", "status", "current_run", *LABELS)
    task_cols = [cols.names[c] for c in roles if cols.has(c)]
    owners = _rows_by_key(conn, t.table, task_cols, t.id, elsewhere)
    for run in open_runs:
        task_id, run_id = run[r.task], run[r.id]
        task = pending[task_id]["task"] if task_id in pending else owners.get(task_id)
        odd = _odd_run(pack, run, run_kinds)
        if task is not None:  # whether the run dangles is judged on its task's status
            odd.update(fields.problems(task, {t.status: fields.STATUS}))
        if run_id in held and held[run_id] != task_id:
            odd[f"run #{run_id}"] = f"current run of task {fields.quoted(held[run_id])}, see there"
        if odd:  # judged by hand; a running task's entry already holds its runs' values
            _entry(pending, task_id, task, open_by_task)["odd"].update(odd)
            continue
        if task is None:
            why = f"run #{run_id}: its task {fields.quoted(task_id)} does not exist"
        elif task[t.status] != t.guarded:
            why = f"run #{run_id}: its task is {fields.quoted(task[t.status])}"
        elif t.current_run in task and task[t.current_run] != run_id:
            why = f"run #{run_id}: its task points to run {fields.quoted(task[t.current_run])}"
        else:
            continue
        entry = _entry(pending, task_id, task, open_by_task)
        entry["dangling"].append(run_id)
        prior = entry["checks"].get("KD005")
        entry["checks"]["KD005"] = f"{prior}; {why}" if prior else why

    if scan is not None and scan.workers:
        _add_strays(conn, pack, schema, scan, opts, pending, open_by_task)
    flagged = {k: v for k, v in pending.items() if v["checks"] or v["odd"]}
    keys = [k for k in flagged if fields.key(k)]
    causes = _causes(conn, pack, schema, keys)
    latest = _latest_events(conn, pack, schema, keys)
    findings = []
    for task_id in sorted(flagged, key=str):
        entry = flagged[task_id]
        entry["latest_event"] = latest.get(task_id)
        if entry["latest_event"] is not None:  # a time the repair's clock must not precede
            event_id, at = entry["latest_event"]
            kinds = {pack.events.created_at: fields.TIME}
            entry["odd"].update(
                fields.problems({pack.events.created_at: at}, kinds, f"event #{event_id} ")
            )
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
        processes=scan,
        guarded=pack.tasks.guarded,
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
    odd: dict[str, str] = entry["odd"]
    if odd:  # evidence for a person: never repaired on
        repairable, demote, runs, action = False, False, (), f"none: {ODD_ACTION}"
    else:
        repairable, demote, runs, action = _decide(
            pack, codes, entry["running"], live, entry["dangling"], open_ids, opts.force
        )
    strays = tuple(entry.get("strays", ()))
    if strays and not odd:
        stop = "; ".join(f"terminate worker {s.worker.pid} ({s.short})" for s in strays)
        action, repairable = (f"{action}; {stop}" if action else stop), True
    unclaimed = [o[r.id] for o in opened if _empty(o.get(r.claim_lock))] if r.claim_lock else []
    task, t = entry["task"], pack.tasks
    # Only a board that has the run table and these columns can show their absence.
    traces = [c for c in (t.claim_lock, t.claim_expires, t.current_run) if c]
    bare = entry["running"] and not opened and schema.runs is not None and len(traces) == 3
    bare = bare and all(col in task and _empty(task[col]) for col in traces)
    cause = (
        _describe_cause(pack, event, unclaimed, bare)
        if schema.events is not None
        else {"path": UNKNOWN, "detail": "no event table"}
    )
    if codes == {"KD007"}:
        detail = (
            "the task left the worker's run (ended, blocked, archived, claimed again)"
            " and nothing stopped the worker"
        )
        cause = {"path": RUN_OUTLIVED, "detail": detail}
    label_cols = {getattr(pack.tasks, role): role for role in LABELS if getattr(pack.tasks, role)}
    seen = {k: v for k, v in entry["task"].items() if k not in label_cols}
    labels = {role: entry["task"].get(col) for col, role in label_cols.items()}
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
        **({"odd": odd} if odd else {}),
    }
    if strays:
        evidence["workers"] = [s.as_dict() for s in strays]
    return Finding(
        task_id=jsontext.plain(task_id),
        codes=tuple(sorted(codes)),
        repairable=repairable,
        action=action,
        cause=cause["path"],
        why=tuple(f"{c}: {checks[c]}" for c in sorted(checks))
        + tuple(f"{c}: {why}" for c, why in odd.items()),
        evidence=evidence,
        demote=demote,
        runs=runs,
        seen=seen,
        runs_seen=runs_seen,
        not_before=_not_before(pack, seen, closing, entry["latest_event"]) if repairable else None,
        strays=strays,
        labels=labels,
    )


def audit_board(path: Path, pack: RulePack, opts: Options, busy_timeout_ms: int) -> Report:
    """Open the board read-only, read its schema and run every possible check."""
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms)
        try:
            # Processes first, then the snapshot: a worker seen was claimed in it.
            spec = pack.workers
            scan = workers.scan(spec, path, opts.hostname) if spec.enabled else None
            try:
                return _read(conn, pack, path, opts, scan)
            except sqlite3.OperationalError as exc:
                if not undecodable(exc):
                    raise
            conn.execute("ROLLBACK")
            conn.text_factory = tolerant_text
            return _read(conn, pack, path, opts, scan)
        finally:
            conn.close()


def _read(
    conn: sqlite3.Connection,
    pack: RulePack,
    path: Path,
    opts: Options,
    scan: workers.Scan | None,
) -> Report:
    """The audit of one read snapshot of the board."""
    schema = read_schema(conn, pack, path)
    conn.execute("BEGIN")  # one read transaction: every query sees one snapshot
    report = run_checks(conn, pack, schema, str(path), opts, scan)
    tables = (pack.tasks.table, pack.runs.table, pack.events.table)
    return replace(report, guard=read_state(conn, pack, schema), triggers=others(conn, tables))
