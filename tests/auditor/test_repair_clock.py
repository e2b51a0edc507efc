"""repair never writes history that runs backwards: its clock is not older than the evidence."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support import boards
from support.cli import run_cli

NEWEST = 20  # seconds before now: the newest time on the board, set by each case


def _run_started(conn: sqlite3.Connection, at: int) -> None:
    conn.execute("UPDATE task_runs SET started_at = ? WHERE task_id = 'o'", (at,))


def _heartbeat(conn: sqlite3.Connection, at: int) -> None:
    conn.execute("UPDATE tasks SET last_heartbeat_at = ? WHERE id = 'o'", (at,))


def _task_started(conn: sqlite3.Connection, at: int) -> None:
    conn.execute("UPDATE tasks SET started_at = ? WHERE id = 'o'", (at,))


def _event(conn: sqlite3.Connection, at: int) -> None:
    boards.add_event(conn, "o", "commented", at, body="still on it")


CASES: dict[str, tuple[Callable[[sqlite3.Connection, int], None], str]] = {
    "run start": (_run_started, "run #1 started_at"),
    "heartbeat": (_heartbeat, "last_heartbeat_at"),
    "task start": (_task_started, "started_at"),
    "latest event": (_event, "event #3 created_at"),
}


def _board(tmp_path: Path, dead_pid: int, case: str) -> tuple[Path, int]:
    """A task claimed here a minute ago whose worker died (KD004); one time made newer."""
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.dead_worker(conn, "o", now, dead_pid)
    CASES[case][0](conn, now - NEWEST)
    conn.close()
    return path, now - NEWEST


@pytest.mark.parametrize("case", list(CASES))
def test_a_clock_before_the_evidence_is_refused(tmp_path: Path, dead_pid: int, case: str) -> None:
    path, newest = _board(tmp_path, dead_pid, case)
    before = boards.board_hash(path)
    for args in (["--apply", "--yes"], []):
        proc = run_cli("repair", path, *args, "--now", newest - 1)
        assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
        assert proc.stderr.count("\n") == 1
        assert proc.stderr == (
            f"kanban-audit: error: --now {newest - 1} is older than task 'o':"
            f" {CASES[case][1]} = {newest}; a repair would record history that runs backwards\n"
        )
    assert boards.board_hash(path) == before
    assert sorted(tmp_path.glob("*.bak")) == []
    assert run_cli("audit", path, "--now", newest - 1).returncode == 1  # audit: any clock


@pytest.mark.parametrize("case", list(CASES))
def test_a_clock_at_the_evidence_repairs(tmp_path: Path, dead_pid: int, case: str) -> None:
    path, newest = _board(tmp_path, dead_pid, case)
    proc = run_cli("repair", path, "--apply", "--yes", "--now", newest)
    assert proc.returncode == 0, proc.stderr
    assert boards.rows(path, "SELECT ended_at FROM task_runs") == [(newest,)]
    assert boards.rows(path, "SELECT max(created_at) FROM task_events") == [(newest,)]


def test_an_undo_clock_before_its_repair_is_refused(tmp_path: Path, dead_pid: int) -> None:
    """undo dates its event too: never before the repair it undoes."""
    path, newest = _board(tmp_path, dead_pid, "heartbeat")
    assert (
        run_cli("repair", path, "--apply", "--yes", "--no-backup", "--now", newest).returncode == 0
    )
    [(repair_event,)] = boards.rows(path, "SELECT id FROM task_events WHERE kind = 'reconciled'")
    before = boards.board_hash(path)
    proc = run_cli("undo", "o", path, "--yes", "--now", newest - 1)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        f"kanban-audit: error: --now {newest - 1} is older than repair #{repair_event} of task"
        f" 'o' (created_at = {newest}); an undo would record history that runs backwards\n"
    )
    assert boards.board_hash(path) == before
    proc = run_cli("undo", "o", path, "--yes", "--now", newest + 5)
    assert proc.returncode == 0, proc.stderr
    sql = "SELECT created_at FROM task_events WHERE kind = 'reconcile_undone'"
    assert boards.rows(path, sql) == [(newest + 5,)]
