"""Ctrl-C during `guard install` or `remove`: the command says what the board holds now.

A real SIGINT lands while the command's COMMIT is in flight, timed with a
reader's lock (support/commits.py); the COMMIT goes through.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support import boards, commits
from support.cli import run_cli


@pytest.mark.parametrize(
    ("command", "now"),
    [
        (
            "install",
            "current (kanban_audit_guard_v1_insert, kanban_audit_guard_v1_update on 'tasks')",
        ),
        ("remove", "missing (kanban-audit guard install adds it)"),
    ],
)
def test_an_interrupt_during_the_commit_reports_the_guard_read_back(
    tmp_path: Path, command: str, now: str
) -> None:
    path = tmp_path / "kanban.db"
    conn = boards.create(path, wal=False)
    boards.never_spawned(conn, "t", int(time.time()))
    conn.close()
    if command == "remove":
        assert run_cli("guard", "install", path, "--yes").returncode == 0
    with commits.reader(path) as reader:
        reader.held()
        args = ["guard", command, str(path), "--yes"]
        proc = commits.run_interrupted(path, reader, *args)
    stderr = proc.stderr
    assert proc.returncode == 130, stderr
    assert stderr == f"kanban-audit: interrupted; the board's guard is now {now}\n"
    status = run_cli("guard", "status", path)
    assert status.stdout == f"{path}: guard {now}\n"
