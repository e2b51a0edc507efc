"""Hermes 0.15.0 and later lose their lock on the board file after every commit.

From 0.15.0 on, `write_txn` checks the file's length after each commit by
opening the board file with Python's `open()` and closing it again. Closing
any descriptor of a file drops every POSIX lock the process holds on it,
SQLite's included. The next process that closes its connection to the board
then believes it is the last one: it checkpoints and deletes the WAL and its
index while Hermes still has them open. Any second writer (the dashboard, a
CLI, `kanban-audit repair`, the `sqlite3` shell) can trigger it, and under
concurrent writes the board ends up corrupt.

This test records the lock loss itself, which is deterministic: Hermes commits
once and waits with the board open; another process opens the board, writes
and closes; the WAL must still be there.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from hermes_boards import Board
from support import hermes
from support.cli import run_cli
from support.db import rows

KEEP_THEIR_LOCK = {"0.13.0", "0.14.0"}


@pytest.mark.parametrize("version", list(hermes.RELEASES))
def test_another_writer_deletes_the_wal_under_hermes(board: Board, version: str) -> None:
    committed, go_on = board.home / "committed", board.home / "go-on"
    proc = hermes.start(
        version,
        board.home,
        [
            {"op": "create", "name": "first"},
            {"op": "signal", "path": str(committed)},
            {"op": "wait", "path": str(go_on)},
        ],
    )
    try:
        deadline = time.monotonic() + 60
        while not committed.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "Hermes never committed"
            time.sleep(0.01)
        wal = board.db.with_name(board.db.name + "-wal")
        assert wal.exists()
        conn = sqlite3.connect(board.db, isolation_level=None)
        conn.execute("UPDATE tasks SET priority = 1 WHERE id = ?", (board.ids["ready"],))
        conn.close()
        assert wal.exists() is (version in KEEP_THEIR_LOCK)
    finally:
        go_on.touch()
        hermes.finish(proc)


@pytest.mark.parametrize("version", list(hermes.RELEASES))
def test_our_commands_leave_the_wal_to_hermes(board: Board, version: str) -> None:
    """Hermes has the board open (without its lock from 0.15.0 on) while audit, repair,
    guard install and guard remove run: the WAL stays, Hermes writes on, the board is
    whole."""
    committed, go_on = board.home / "committed", board.home / "go-on"
    proc = hermes.start(
        version,
        board.home,
        [
            {"op": "create", "name": "first"},
            {"op": "signal", "path": str(committed)},
            {"op": "wait", "path": str(go_on)},
            {"op": "create", "name": "second"},
        ],
    )
    wal = board.db.with_name(board.db.name + "-wal")
    try:
        deadline = time.monotonic() + 60
        while not committed.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "Hermes never committed"
            time.sleep(0.01)
        for command in (
            ["audit", board.db],
            ["repair", board.db, "--apply", "--yes", "--no-backup"],
            ["guard", "install", board.db, "--yes"],
            ["guard", "remove", board.db, "--yes"],
        ):
            done = run_cli(*command)
            assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr
            assert wal.exists(), command
    finally:
        go_on.touch()
        results = hermes.finish(proc)
    assert all("error" not in r for r in results), results
    assert rows(board.db, "PRAGMA integrity_check") == [("ok",)]
    assert rows(board.db, "SELECT status FROM tasks WHERE id = ?", board.ids["orphan"]) == [
        ("ready",)
    ]
    assert rows(board.db, "SELECT count(*) FROM tasks WHERE title = 'second'") == [(1,)]
