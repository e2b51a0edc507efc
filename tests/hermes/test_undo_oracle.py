"""`undo` and `history` on boards real Hermes releases wrote: an undo puts back exactly the
rows the repair changed, refuses once Hermes moved the task, and the guard refuses the
undo that would recreate the dashboard's orphan."""

from __future__ import annotations

import json

import pytest
from hermes_boards import Board
from support.cli import run_cli
from support.db import board_hash, row_hashes

pytestmark = pytest.mark.parametrize("version", ["0.13.0", "0.19.0"])


def _undo(board: Board, name: str, *args: str) -> tuple[int, dict[str, object]]:
    proc = run_cli("undo", board.ids[name], board.db, "--format", "json", *args)
    assert proc.stderr == "", proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_undo_restores_the_rows_the_repair_changed(board: Board) -> None:
    tasks, runs = row_hashes(board.db, "tasks", "id"), row_hashes(board.db, "task_runs", "id")
    code, _ = board.audit("--task", board.ids["dead"], "--apply", "--yes", command="repair")
    assert code == 0
    assert row_hashes(board.db, "tasks", "id") != tasks

    proc = run_cli("undo", board.ids["dead"], board.db)  # no terminal, no --yes
    assert proc.returncode == 2 and "pass --yes" in proc.stderr
    code, doc = _undo(board, "dead", "--yes")
    assert (code, doc["result"]) == (0, "undone")
    assert row_hashes(board.db, "tasks", "id") == tasks
    assert row_hashes(board.db, "task_runs", "id") == runs
    _, audit = board.audit()
    assert board.findings(audit)["dead"]["codes"] == ["KD004"]

    proc = run_cli("history", board.db, "--format", "json")
    entries = json.loads(proc.stdout)["entries"]
    assert [(e["what"], e["undone_by"], e["undoes"]) for e in entries] == [
        ("repair", entries[1]["event_id"], None),
        ("undo", None, entries[0]["event_id"]),
    ]
    assert {e["task_id"] for e in entries} == {board.ids["dead"]}
    text = run_cli("history", board.db).stdout.splitlines()
    assert text[0].split() == ["EVENT", "AT", "WHAT", "TASK", "CODES", "BY", "ACTION"]
    assert f"(undone by #{entries[1]['event_id']})" in text[1]
    # Undone already: nothing left to undo.
    proc = run_cli("undo", board.ids["dead"], board.db, "--yes")
    assert proc.returncode == 2 and "undone already" in proc.stderr


def test_undo_refuses_once_hermes_moved_the_task(board: Board) -> None:
    code, _ = board.audit("--task", board.ids["orphan"], "--apply", "--yes", command="repair")
    assert code == 0
    assert board.drive({"op": "claim", "task": "orphan"}) == [{"ok": True}]
    before = board_hash(board.db)
    code, doc = _undo(board, "orphan", "--yes")
    assert (code, doc["result"]) == (1, "refused")
    assert "recorded on the task after the repair" in str(doc["detail"])
    assert board_hash(board.db) == before


def test_the_guard_refuses_to_recreate_the_orphan(board: Board) -> None:
    code, _ = board.audit("--task", board.ids["orphan"], "--apply", "--yes", command="repair")
    assert code == 0
    assert run_cli("guard", "install", board.db, "--yes").returncode == 0
    before = board_hash(board.db)
    code, doc = _undo(board, "orphan", "--yes")
    assert (code, doc["result"]) == (1, "refused")
    assert "kanban-audit guard" in str(doc["detail"])
    assert board_hash(board.db) == before
