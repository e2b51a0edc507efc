"""A factory for real Hermes boards in every state the audit codes describe.

Each state function writes the rows the Hermes code paths would leave behind
(the claim path writes task, run and a `claimed` event in one go; the buggy
dashboard write only flips the status and logs a `status` event).
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

# Re-exported: the audit tests compare the boards this factory builds with them.
from support.db import board_hash as board_hash
from support.db import listing as listing
from support.db import row_hashes as row_hashes
from support.db import rows as rows

SCHEMA = Path(__file__).resolve().parents[2] / "examples" / "hermes-schema.sql"
HOST = socket.gethostname()
OTHER_HOST = "worker-elsewhere.example"
DISPATCHER_PID = 4242


def create(path: Path, *, wal: bool = True, schema: str | None = None) -> sqlite3.Connection:
    """A new board file with the Hermes schema (or `schema`), in WAL mode like Hermes."""
    conn = sqlite3.connect(path, isolation_level=None)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(schema if schema is not None else SCHEMA.read_text())
    return conn


def add_task(conn: sqlite3.Connection, task_id: str, status: str, now: int, **cols: Any) -> None:
    row = {"id": task_id, "title": f"task {task_id}", "status": status, "created_at": now - 3600}
    row.update(cols)
    conn.execute(
        f"INSERT INTO tasks ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )


def add_run(conn: sqlite3.Connection, task_id: str, started_at: int, **cols: Any) -> int:
    row = {"task_id": task_id, "status": "running", "started_at": started_at, **cols}
    cur = conn.execute(
        f"INSERT INTO task_runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    return int(cur.lastrowid or 0)


def add_event(
    conn: sqlite3.Connection, task_id: str, kind: str, at: int, run_id: int | None = None, **payload
) -> None:
    conn.execute(
        "INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES (?,?,?,?,?)",
        (task_id, run_id, kind, json.dumps(payload), at),
    )


def claimed(
    conn: sqlite3.Connection,
    task_id: str,
    now: int,
    *,
    host: str = HOST,
    pid: int | None = None,
    fingerprint: float | None = None,
    age: int = 60,
    ttl: int = 900,
) -> int:
    """What claim_task leaves: running, claim lock/expiry, an open run, a `claimed` event."""
    at = now - age
    lock = f"{host}:{DISPATCHER_PID}"
    run_id = add_run(conn, task_id, at, claim_lock=lock, claim_expires=at + ttl, worker_pid=pid)
    add_task(
        conn,
        task_id,
        "running",
        now,
        started_at=at,
        claim_lock=lock,
        claim_expires=at + ttl,
        worker_pid=pid,
        worker_pid_started_at=fingerprint,
        current_run_id=run_id,
        last_heartbeat_at=at,
    )
    add_event(conn, task_id, "created", now - 3600)
    add_event(conn, task_id, "claimed", at, run_id, lock=lock)
    return run_id


# Healthy states ----------------------------------------------------------------


def idle(conn: sqlite3.Connection, task_id: str, now: int, status: str = "ready") -> None:
    """A task that is not running and has no open run."""
    add_task(conn, task_id, status, now)
    add_event(conn, task_id, "created", now - 3600)


def finished(conn: sqlite3.Connection, task_id: str, now: int) -> None:
    """A done task whose run the worker closed."""
    run_id = add_run(conn, task_id, now - 600, ended_at=now - 300, outcome="completed")
    add_task(conn, task_id, "done", now, started_at=now - 600, completed_at=now - 300)
    conn.execute("UPDATE task_runs SET status = 'completed' WHERE id = ?", (run_id,))


def live_worker(conn: sqlite3.Connection, task_id: str, now: int, pid: int, started: float) -> int:
    """Claimed here; the worker process runs and its fingerprint matches."""
    return claimed(conn, task_id, now, pid=pid, fingerprint=started)


def remote_worker(conn: sqlite3.Connection, task_id: str, now: int) -> int:
    """Claimed on another host with a valid claim: nothing to check from here."""
    return claimed(conn, task_id, now, host=OTHER_HOST, pid=31337)


def fresh_claim(conn: sqlite3.Connection, task_id: str, now: int) -> int:
    """Claimed a second ago; the dispatcher has not recorded the worker PID yet."""
    return claimed(conn, task_id, now, age=1)


# States the codes describe -----------------------------------------------------


def lapsed_alive(conn: sqlite3.Connection, task_id: str, now: int, pid: int, started: float) -> int:
    """KD003 with a live worker: the claim expired, the process still runs."""
    return claimed(conn, task_id, now, pid=pid, fingerprint=started, age=7200, ttl=900)


def direct_write(conn: sqlite3.Connection, task_id: str, now: int) -> None:
    """KD001+KD002: the dashboard bug: status set to running, nothing else."""
    add_task(conn, task_id, "running", now)
    add_event(conn, task_id, "created", now - 3600)
    add_event(conn, task_id, "status", now - 1800, **{"from": "ready", "to": "running"})


def dead_worker(conn: sqlite3.Connection, task_id: str, now: int, pid: int) -> int:
    """KD004: claimed here, claim still valid, the worker process is gone."""
    return claimed(conn, task_id, now, pid=pid)


def zombie_worker(conn: sqlite3.Connection, task_id: str, now: int, pid: int) -> int:
    """KD004: the worker exited and nobody reaped it."""
    return claimed(conn, task_id, now, pid=pid)


def reused_pid(conn: sqlite3.Connection, task_id: str, now: int, pid: int, started: float) -> int:
    """KD004: the PID is alive but belongs to a process started long after the worker."""
    return claimed(conn, task_id, now, pid=pid, fingerprint=started - 5000)


def expired_dead(conn: sqlite3.Connection, task_id: str, now: int, pid: int) -> int:
    """KD003+KD004: the claim lapsed and the worker is gone."""
    return claimed(conn, task_id, now, pid=pid, age=7200, ttl=900)


def never_spawned(conn: sqlite3.Connection, task_id: str, now: int) -> int:
    """KD003: claimed long ago, no worker PID ever recorded, and the claim lapsed."""
    return claimed(conn, task_id, now, age=7200, ttl=900)


def ended_run(conn: sqlite3.Connection, task_id: str, now: int, pid: int) -> int:
    """KD001+KD004: still running but its current run was closed (a crashed sweep)."""
    run_id = claimed(conn, task_id, now, pid=pid)
    conn.execute(
        "UPDATE task_runs SET ended_at = ?, status = 'crashed', outcome = 'crashed' WHERE id = ?",
        (now - 30, run_id),
    )
    return run_id


def foreign_run(conn: sqlite3.Connection, task_id: str, now: int, pid: int, other: int) -> None:
    """KD001+KD004: current_run_id points at another task's run."""
    claimed(conn, task_id, now, pid=pid)
    conn.execute("UPDATE task_runs SET ended_at = ? WHERE task_id = ?", (now - 30, task_id))
    conn.execute("UPDATE tasks SET current_run_id = ? WHERE id = ?", (other, task_id))


def run_without_claim(conn: sqlite3.Connection, task_id: str, now: int) -> int:
    """KD002: an open run was backfilled by hand, without a claim."""
    run_id = add_run(conn, task_id, now - 900)
    add_task(conn, task_id, "running", now, started_at=now - 900, current_run_id=run_id)
    return run_id


def dangling_run(conn: sqlite3.Connection, task_id: str, now: int) -> int:
    """KD005: the task is done, its run was never closed."""
    run_id = add_run(conn, task_id, now - 900, claim_lock=f"{HOST}:{DISPATCHER_PID}")
    add_task(conn, task_id, "done", now, completed_at=now - 100)
    return run_id


def remote_expired(conn: sqlite3.Connection, task_id: str, now: int) -> int:
    """KD003+KD006: the claim lapsed on another host; liveness unknown from here."""
    return claimed(conn, task_id, now, host=OTHER_HOST, pid=31337, age=7200, ttl=900)


def orphans(path: Path, count: int, now: int | None = None) -> None:
    """A new board holding `count` tasks whose claim lapsed with no worker recorded (KD003),
    as of `now` (default: this host's clock)."""
    now = int(time.time()) if now is None else now
    conn = create(path)
    conn.execute("BEGIN")
    for i in range(count):
        never_spawned(conn, f"t{i:05d}", now)
    conn.execute("COMMIT")
    conn.close()


def repair_state(path: Path) -> tuple[set[str], set[str]]:
    """Tasks the board shows repaired (ready, run closed, one event) and untouched."""
    state = rows(
        path,
        "SELECT t.id, t.status, r.ended_at IS NOT NULL,"
        " (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.kind = 'reconciled')"
        " FROM tasks t JOIN task_runs r ON r.task_id = t.id",
    )
    repaired = {s[0] for s in state if s[1:] == ("ready", 1, 1)}
    untouched = {s[0] for s in state if s[1:] == ("running", 0, 0)}
    assert len(repaired) + len(untouched) == len(state), "a half-repaired task"
    return repaired, untouched
