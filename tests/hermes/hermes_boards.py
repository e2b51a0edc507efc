"""A board written by a real Hermes release, and what the tests ask of it.

`build` writes, with the release's own functions (see
`support/hermes_driver.py`): a healthy claimed task whose worker is a live
`sleep`, the dashboard orphan (`_set_status_direct(conn, id, "running")`), a
dead worker, an expired claim with a dead worker, a done task, a ready task,
and a task claimed on another host.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import hermes
from support.cli import run_cli
from support.db import rows

OTHER_HOST = "worker-elsewhere.example"
# The dead workers' PID: above Linux's largest pid_max (2**22), so no process can
# ever have it. Hermes' sweeps send SIGTERM to a stale claim's worker, and a
# reaped PID is soon reused on a busy machine (pid_max is often 32768).
NO_PROCESS = 2**22 + 7
REMOTE_PID = 31337
# What the audit and repair must do with each task (README: Audit and repair a board).
REPAIRED = ("orphan", "dead", "expired")
UNTOUCHED = ("live", "remote", "done", "ready")


@dataclass(frozen=True)
class Board:
    """A board in `home` (HERMES_HOME), its release, and the ids of its named tasks."""

    version: str
    home: Path
    live_pid: int

    @property
    def db(self) -> Path:
        return self.home / "kanban.db"

    @property
    def ids(self) -> dict[str, str]:
        return json.loads((self.home / "names.json").read_text())

    def names(self, ids: list[str]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return sorted(by_id.get(i, i) for i in ids)

    def drive(self, *steps: dict[str, Any], env: dict[str, str] | None = None) -> list[Any]:
        return hermes.drive(self.version, self.home, *steps, env=env)

    def task(self, name: str) -> dict[str, Any]:
        (row,) = rows(self.db, "SELECT * FROM tasks WHERE id = ?", self.ids[name])
        columns = [c for (c,) in rows(self.db, "SELECT name FROM pragma_table_info('tasks')")]
        return dict(zip(columns, row, strict=True))

    def open_runs(self, name: str) -> list[tuple[Any, ...]]:
        return rows(
            self.db,
            "SELECT id, claim_lock FROM task_runs WHERE task_id = ? AND ended_at IS NULL",
            self.ids[name],
        )

    def audit(self, *args: Any, command: str = "audit") -> tuple[int, dict[str, Any]]:
        """The installed command on this board, grace 0 (a lapsed claim counts at once)."""
        proc = run_cli(command, self.db, "--grace", "0", "--format", "json", *args)
        assert proc.stderr == "", proc.stderr
        return proc.returncode, json.loads(proc.stdout)

    def findings(self, doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[f["task_id"]]: f for f in doc["findings"]}


def build(version: str, home: Path, live_pid: int) -> None:
    """The board of the module docstring, written by the release's own functions."""
    home.mkdir(parents=True)

    def claimed(name: str, pid: int, **claim: Any) -> list[dict[str, Any]]:
        return [
            {"op": "create", "name": name},
            {"op": "claim", "task": name, **claim},
            {"op": "set_pid", "task": name, "pid": pid},
        ]

    results = hermes.drive(
        version,
        home,
        # First, so its one-second claim has lapsed by the time a test reads it.
        *claimed("expired", NO_PROCESS, ttl=1),
        *claimed("live", live_pid),
        *claimed("dead", NO_PROCESS),
        *claimed("remote", REMOTE_PID, claimer=f"{OTHER_HOST}:4242"),
        {"op": "create", "name": "orphan"},
        {"op": "direct", "task": "orphan", "status": "running"},
        {"op": "create", "name": "done"},
        {"op": "claim", "task": "done"},
        {"op": "complete", "task": "done"},
        {"op": "create", "name": "ready"},
    )
    failed = [r for r in results if "ok" not in r or r["ok"] is False]
    assert not failed, failed


def wait_until_lapsed(board: Board, name: str) -> None:
    """Hermes 0.15+ clamps a claim's TTL to at least a second: wait for it to pass."""
    expires = board.task(name)["claim_expires"]
    while time.time() < expires + 1:  # Hermes compares whole seconds: expires < int(now)
        time.sleep(0.05)


def hold_open(board: Board, version: str, then: list[dict[str, Any]]) -> subprocess.Popen[str]:
    """A release's process that commits once and keeps the board open (its lock lost
    from 0.15.0 on) until `let_go`, then runs `then`; returned once it has committed."""
    committed = board.home / "committed"
    proc = hermes.start(
        version,
        board.home,
        [
            {"op": "create", "name": "first"},
            {"op": "signal", "path": str(committed)},
            {"op": "wait", "path": str(board.home / "go-on")},
            *then,
        ],
    )
    deadline = time.monotonic() + 60
    while not committed.exists():
        if time.monotonic() > deadline or proc.poll() is not None:
            let_go(board, proc)
            raise AssertionError("Hermes never committed")
        time.sleep(0.01)
    return proc


def let_go(board: Board, proc: subprocess.Popen[str]) -> list[dict[str, Any]]:
    """Let a `hold_open` process go on; its steps' results."""
    (board.home / "go-on").touch()
    return hermes.finish(proc)


def commands_beside_hermes(board: Board, version: str, path: Path, *repair_args: str) -> None:
    """audit, repair --apply, guard install and guard remove on `path` while the release
    holds the board open (its lock lost from 0.15.0 on): the WAL stays after each, Hermes
    writes on, the board is whole and its orphan repaired."""
    proc = hold_open(board, version, [{"op": "create", "name": "second"}])
    wal = board.db.with_name(board.db.name + "-wal")
    try:
        for command in (
            ["audit", path],
            ["repair", path, "--apply", "--yes", *repair_args],
            ["guard", "install", path, "--yes"],
            ["guard", "remove", path, "--yes"],
        ):
            done = run_cli(*command, cwd=path.parent)
            assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr
            assert wal.exists(), command
    finally:
        results = let_go(board, proc)
    assert all("error" not in r for r in results), results
    assert rows(board.db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(board.db, "SELECT status FROM tasks WHERE id = ?", board.ids["orphan"]) == [
        ("ready",)
    ]
    assert rows(board.db, "SELECT count(*) FROM tasks WHERE title = 'second'") == [(1,)]
