"""The guard through a Hermes upgrade: new columns, and rebuilt tables.

A board written by 0.13.0, with a legacy `task_runs` (TEXT ids), is opened by
0.19.0, whose first `connect()` adds the newer task columns and rebuilds the
drifted table (rename, recreate, copy, drop). SQLite rewrites a trigger body
that names the renamed table and the drop leaves it pointing at nothing; the
guard's bodies name only NEW and OLD and come through intact.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

import pytest
from hermes_boards import Board
from support.cli import run_cli
from support.db import rows

REFUSAL = "IntegrityError: kanban-audit guard: only the claim path may set tasks.status"
# A trigger that checks the run table from the tasks table: what the guard must not be.
NAIVE = """CREATE TRIGGER naive_guard BEFORE UPDATE OF status ON tasks
WHEN NEW.status = 'running' AND NEW.claim_lock IS NULL
  AND NOT EXISTS (SELECT 1 FROM task_runs r WHERE r.task_id = NEW.id AND r.ended_at IS NULL)
BEGIN SELECT RAISE(ABORT, 'naive guard'); END"""


def _legacy_runs_table(board: Board) -> None:
    """Give task_runs the legacy shape (a TEXT id) that 0.19.0 rebuilds."""
    cols = [c for (c,) in rows(board.db, "SELECT name FROM pragma_table_info('task_runs')")]
    conn = sqlite3.connect(board.db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ALTER TABLE task_runs RENAME TO task_runs_old")
        rest = ", ".join(c for c in cols if c != "id")
        conn.execute(f"CREATE TABLE task_runs (id TEXT PRIMARY KEY, {rest})")
        conn.execute("INSERT INTO task_runs SELECT * FROM task_runs_old")
        conn.execute("DROP TABLE task_runs_old")
        conn.execute("COMMIT")
    finally:
        conn.close()


def _upgrade(board: Board) -> tuple[Board, list[dict[str, Any]]]:
    """Open the 0.13.0 board with 0.19.0 and try a claim, a plain move, a direct write."""
    newer = dataclasses.replace(board, version="0.19.0")
    results = newer.drive(
        {"op": "create", "name": "after"},
        {"op": "claim", "task": "after"},
        {"op": "set", "task": "ready", "status": "todo"},
        {"op": "set", "task": "done", "status": "running"},
    )
    return newer, results


def _run_id_type(board: Board) -> str:
    return rows(board.db, "SELECT type FROM pragma_table_info('task_runs') WHERE name = 'id'")[0][0]


@pytest.mark.parametrize("version", ["0.13.0"])
def test_the_guard_survives_migrations_and_a_rebuild(board: Board) -> None:
    _legacy_runs_table(board)
    proc = run_cli("guard", "install", board.db, "--yes")
    assert proc.returncode == 0, proc.stderr
    columns = {c for (c,) in rows(board.db, "SELECT name FROM pragma_table_info('tasks')")}
    assert "project_id" not in columns

    newer, results = _upgrade(board)
    columns = {c for (c,) in rows(board.db, "SELECT name FROM pragma_table_info('tasks')")}
    assert {"project_id", "session_id", "goal_mode"} <= columns
    assert _run_id_type(board) == "INTEGER"
    assert results[:3] == [{"ok": newer.ids["after"]}, {"ok": True}, {"ok": 1}]
    assert results[3]["error"].startswith(REFUSAL)
    assert run_cli("guard", "status", board.db).returncode == 0


@pytest.mark.parametrize("version", ["0.13.0"])
def test_a_trigger_naming_another_table_breaks_hermes(board: Board) -> None:
    """The fact behind the guard's design, shown with the real 0.19.0 rebuild."""
    _legacy_runs_table(board)
    conn = sqlite3.connect(board.db, isolation_level=None)
    try:
        conn.execute(NAIVE)
    finally:
        conn.close()

    _, results = _upgrade(board)
    assert _run_id_type(board) == "INTEGER"
    broken = "OperationalError: no such table: main.task_runs_legacy"
    assert results[1:3] == [{"error": broken}, {"error": broken}]
