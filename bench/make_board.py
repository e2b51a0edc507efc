"""Generate a Hermes Kanban board of any size, in SQL, in seconds.

N tasks with realistic column values (statuses spread like a long-lived
board, titles, bodies, assignees, workspaces, timestamps), their runs and
events, 1% running by default. The running tasks are a mix of healthy ones
(claimed on another host, or on this host by a live process) and orphans:
direct writes that bypassed the claim path (KD001+KD002), workers that died
here (KD004), claims that lapsed on another host (KD003+KD006). About 0.1%
of finished tasks keep a dangling open run (KD005). Ends in WAL mode.

    python bench/make_board.py BOARD.db --tasks 1000000 [--now EPOCH]

Writes BOARD.db.json beside the board: the clock it was built at and the
expected counts, so benchmarks can assert the audit found exactly them.
"""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import time
from pathlib import Path

SCHEMA = Path(__file__).resolve().parents[1] / "examples" / "hermes-schema.sql"
REMOTE_HOST = "worker-2.example"
DISPATCHER_PID = 4242
# Linux never hands out a PID at or above 2**22, so these workers are provably gone.
DEAD_PID_BASE = 1 << 22
LOREM = (
    "Investigate the failing integration test, collect logs from the last three runs, "
    "compare the dependency lockfiles, write a minimal reproduction and propose a fix "
    "with a regression test; update the changelog and ping the reviewers when green. "
)

# Running tasks are numbered 1..R; `kind` says what state each one is in.
# A hash of r picks the orphan share (alternating direct writes and dead local
# workers); the rest are healthy here or remote, 1 in 20 with a lapsed claim.
RUNNING_KIND = """
CASE
  WHEN (r * 2654435761) % 1000 < :orphan_permille
    THEN CASE WHEN r % 2 = 0 THEN 'direct' ELSE 'dead' END
  WHEN r % 20 = 3 THEN 'remote-expired'
  WHEN r % 20 IN (4, 5) THEN 'local'
  ELSE 'remote'
END
"""

STATUS = """
CASE
  WHEN h < 55 THEN 'done' WHEN h < 65 THEN 'archived' WHEN h < 73 THEN 'todo'
  WHEN h < 79 THEN 'ready' WHEN h < 83 THEN 'triage' WHEN h < 87 THEN 'blocked'
  WHEN h < 92 THEN 'review' WHEN h < 95 THEN 'scheduled' ELSE 'done'
END
"""


def generate(
    path: Path,
    tasks: int,
    running: float = 0.01,
    orphan_share: float = 0.15,
    now: int | None = None,
) -> dict[str, object]:
    """Build the board at `path` (replacing it) as of `now` (default: this host's clock);
    return the clock and expected counts."""
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    now = int(time.time()) if now is None else now
    every = max(1, round(1 / running)) if running > 0 else tasks + 1
    params = {
        "n": tasks,
        "now": now,
        "every": every,
        "orphan_permille": round(orphan_share * 1000),
        "local": f"{socket.gethostname()}:{DISPATCHER_PID}",
        "remote": f"{REMOTE_HOST}:{DISPATCHER_PID}",
        "dead": DEAD_PID_BASE,
        "lorem": LOREM,
    }
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
    schema = SCHEMA.read_text()
    tables, _, indexes = schema.partition("CREATE INDEX")
    conn.executescript(tables)
    conn.execute("BEGIN")
    _tasks(conn, params)
    _runs(conn, params)
    _events(conn, params)
    conn.execute("COMMIT")
    conn.executescript("CREATE INDEX" + indexes)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode = WAL")
    meta = _expected(conn, params)
    conn.close()
    Path(f"{path}.json").write_text(json.dumps(meta, indent=2))
    return meta


def _tasks(conn: sqlite3.Connection, p: dict[str, object]) -> None:
    """All tasks in one INSERT ... SELECT over a recursive counter."""
    conn.execute(
        f"""
        WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n),
        base AS (
          SELECT n, (n * 2654435761) % 100 AS h,
                 CASE WHEN n % :every = 0 THEN n / :every END AS r
          FROM seq
        ),
        kinded AS (
          SELECT *, CASE WHEN r IS NULL THEN {STATUS} ELSE 'running' END AS status,
                 CASE WHEN r IS NOT NULL THEN {RUNNING_KIND} END AS kind
          FROM base
        )
        INSERT INTO tasks (id, title, body, assignee, status, priority, created_by, created_at,
          started_at, completed_at, workspace_kind, workspace_path, branch_name, project_id,
          claim_lock, claim_expires, tenant, result, consecutive_failures, worker_pid,
          max_runtime_seconds, last_heartbeat_at, workflow, worker_pid_started_at)
        SELECT printf('t_%08d', n),
          'Task ' || n || ': ' || substr(:lorem, 1 + (n * 7) % 120, 30 + n % 40),
          substr(:lorem, 1 + n % 100, 60 + (n * 13) % 180),
          'agent-' || (n % 12), status, n % 5, 'user-' || (n % 40),
          :now - (:n - n) * 30,
          CASE WHEN status IN ('done', 'archived', 'review', 'blocked')
                 THEN :now - (:n - n) * 30 + 60
               WHEN kind IN ('remote-expired') THEN :now - 7200
               WHEN kind IN ('remote', 'local', 'dead') THEN :now - 300 END,
          CASE WHEN status IN ('done', 'archived') THEN :now - (:n - n) * 30 + 900 END,
          'worktree', '/srv/hermes/ws/t_' || n, 'kanban/t_' || n, 'proj-' || (n % 50),
          CASE WHEN kind IN ('remote', 'remote-expired') THEN :remote
               WHEN kind IN ('local', 'dead') THEN :local END,
          CASE WHEN kind = 'remote-expired' THEN :now - 6300
               WHEN kind IN ('remote', 'local', 'dead') THEN :now + 600 END,
          'default',
          CASE WHEN status IN ('done', 'archived') THEN 'ok: ' || substr(:lorem, 1, 40) END,
          CASE WHEN h % 17 = 0 THEN 1 ELSE 0 END,
          CASE WHEN kind IN ('remote', 'remote-expired') THEN 20000 + n % 10000
               WHEN kind = 'local' THEN 1
               WHEN kind = 'dead' THEN :dead + r END,
          3600,
          CASE WHEN kind IN ('remote', 'local', 'dead') THEN :now - 20 END,
          'default', NULL
        FROM kinded
        """,
        p,
    )


def _runs(conn: sqlite3.Connection, p: dict[str, object]) -> None:
    """Closed runs for finished work (some with an earlier crash), open runs for claims."""
    conn.execute(
        """
        INSERT INTO task_runs (task_id, profile, status, claim_lock, claim_expires, worker_pid,
          max_runtime_seconds, last_heartbeat_at, started_at, ended_at, outcome, summary,
          metadata, error)
        SELECT id, 'default', 'crashed', :remote, started_at + 900, 30000 + rowid % 1000, 3600,
          started_at - 400, started_at - 600, started_at - 300, 'crashed', NULL, '{}',
          'worker exited with code 137'
        FROM tasks WHERE status IN ('done', 'archived', 'review', 'blocked') AND rowid % 5 = 0
        """,
        p,
    )
    conn.execute(
        """
        INSERT INTO task_runs (task_id, profile, status, claim_lock, claim_expires, worker_pid,
          max_runtime_seconds, last_heartbeat_at, started_at, ended_at, outcome, summary,
          metadata, error)
        SELECT id, 'default',
          CASE WHEN status = 'blocked' THEN 'blocked' WHEN status = 'running' THEN 'running'
               ELSE 'completed' END,
          coalesce(claim_lock, :remote), coalesce(claim_expires, started_at + 900),
          coalesce(worker_pid, 30000 + rowid % 1000), 3600, last_heartbeat_at, started_at,
          CASE WHEN status = 'running' THEN NULL
               WHEN rowid % 1000 = 7 AND status = 'done' THEN NULL
               ELSE coalesce(completed_at, started_at + 600) END,
          CASE WHEN status = 'running' OR (rowid % 1000 = 7 AND status = 'done') THEN NULL
               WHEN status = 'blocked' THEN 'blocked' ELSE 'completed' END,
          CASE WHEN status <> 'running' THEN substr(result, 1, 80) END, '{"model": "default"}',
          NULL
        FROM tasks
        WHERE status IN ('done', 'archived', 'review', 'blocked')
           OR (status = 'running' AND claim_lock IS NOT NULL)
        """,
        p,
    )
    conn.execute(
        """
        UPDATE tasks SET current_run_id = open.id
        FROM (SELECT task_id, max(id) AS id FROM task_runs WHERE ended_at IS NULL
              GROUP BY task_id) AS open
        WHERE open.task_id = tasks.id AND tasks.status = 'running'
        """
    )


def _events(conn: sqlite3.Connection, p: dict[str, object]) -> None:
    """A created event per task, claimed/completed per run, the direct writes' status events."""
    conn.execute(
        """
        INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        SELECT id, NULL, 'created', '{"by": "' || created_by || '"}', created_at FROM tasks
        """
    )
    conn.execute(
        """
        INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        SELECT task_id, id, 'claimed', '{"lock": "' || claim_lock || '"}', started_at
        FROM task_runs
        """
    )
    conn.execute(
        """
        INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        SELECT task_id, id, outcome, '{"outcome": "' || outcome || '"}', ended_at
        FROM task_runs WHERE ended_at IS NOT NULL
        """
    )
    conn.execute(
        """
        INSERT INTO task_events (task_id, run_id, kind, payload, created_at)
        SELECT id, NULL, 'status', '{"from": "ready", "to": "running"}', :now - 1800
        FROM tasks WHERE status = 'running' AND claim_lock IS NULL
        """,
        p,
    )


def _expected(conn: sqlite3.Connection, p: dict[str, object]) -> dict[str, object]:
    """What an audit at the build clock must find (computed from the rows themselves)."""

    def one(sql: str) -> int:
        return int(conn.execute(sql).fetchone()[0])

    orphans = one(
        "SELECT count(*) FROM tasks WHERE status = 'running' AND worker_pid IS NOT NULL"
        f" AND worker_pid >= {DEAD_PID_BASE}"
    )
    direct = one("SELECT count(*) FROM tasks WHERE status = 'running' AND claim_lock IS NULL")
    dangling = one(
        "SELECT count(*) FROM task_runs r JOIN tasks t ON t.id = r.task_id"
        " WHERE r.ended_at IS NULL AND t.status <> 'running'"
    )
    expired = one(
        f"SELECT count(*) FROM tasks WHERE status = 'running' AND claim_expires < {p['now']}"
    )
    return {
        "now": p["now"],
        "tasks": p["n"],
        "running": one("SELECT count(*) FROM tasks WHERE status = 'running'"),
        "runs": one("SELECT count(*) FROM task_runs"),
        "events": one("SELECT count(*) FROM task_events"),
        "findings": orphans + direct + dangling + expired,
        "repairable": orphans + direct + dangling,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("board", type=Path)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--running", type=float, default=0.01, help="share of tasks running")
    parser.add_argument(
        "--orphan-share", type=float, default=0.15, help="share of running tasks orphaned"
    )
    parser.add_argument(
        "--now", type=int, metavar="EPOCH", help="the board's clock, for a reproducible board"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    meta = generate(args.board, args.tasks, args.running, args.orphan_share, args.now)
    took = time.perf_counter() - started
    print(json.dumps({**meta, "seconds": round(took, 2), "bytes": args.board.stat().st_size}))


if __name__ == "__main__":
    main()
