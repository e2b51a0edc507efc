"""`repair --apply` writes after a "yes" typed on a terminal, or with --yes; never by default."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support import boards
from support.cli import run_cli
from support.tty import run_tty

from kanban_audit import terminal


@pytest.mark.parametrize(
    ("yes", "stdin_isatty", "decision"),
    [
        (True, True, terminal.PROCEED),
        (True, False, terminal.PROCEED),
        (False, True, terminal.ASK),
        (False, False, terminal.REFUSE),
    ],
)
def test_confirmation_policy(yes: bool, stdin_isatty: bool, decision: str) -> None:
    assert terminal.confirmation(yes, stdin_isatty) == decision


@pytest.fixture
def board(tmp_path: Path) -> Path:
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.direct_write(conn, "a", now)
    boards.direct_write(conn, "b", now)
    conn.close()
    return path


def _untouched(path: Path, before: str) -> None:
    assert boards.board_hash(path) == before
    assert sorted(path.parent.glob("*.bak")) == []


def test_no_terminal_and_no_yes_refuses(board: Path) -> None:
    before = boards.board_hash(board)
    proc = run_cli("repair", board, "--apply")
    assert proc.returncode == 2
    assert proc.stderr == "kanban-audit: error: refusing to write: no terminal to confirm on;" \
        " pass --yes\n"  # fmt: skip
    _untouched(board, before)


def test_nothing_to_write_needs_no_confirmation(tmp_path: Path) -> None:
    path = tmp_path / "clean.db"
    boards.create(path).close()
    proc = run_cli("repair", path, "--apply")
    assert (proc.returncode, proc.stderr) == (0, "")


@pytest.mark.parametrize("stdout_on_terminal", [True, False], ids=["terminal", "piped"])
def test_a_terminal_on_stdin_is_asked_even_when_output_is_piped(
    board: Path, stdout_on_terminal: bool
) -> None:
    """`kanban-audit repair --apply | tee log`: stdout is a pipe, the question is still asked."""
    before = boards.board_hash(board)
    run = run_tty("repair", board, "--apply", stdout=stdout_on_terminal, answers={b"[y/N]": b"n\n"})
    assert run.code == 2  # declined: nothing written
    assert "kanban-audit: aborted, nothing written" in run.tty
    assert f"Repair 2 tasks in {board}? [y/N]" in run.tty
    _untouched(board, before)


def test_yes_typed_on_the_terminal_repairs(board: Path) -> None:
    run = run_tty("repair", board, "--apply", stdout=False, answers={b"[y/N]": b"y\n"})
    assert run.code == 0, run.tty
    assert run.stdout.splitlines()[-1] == "repaired 2, skipped 0"
    assert boards.rows(board, "SELECT DISTINCT status FROM tasks") == [("ready",)]
