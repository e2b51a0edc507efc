"""`repair --task` on a board a real Hermes release wrote: that task only, and the
release's own claim path takes it back."""

from __future__ import annotations

import pytest
from hermes_boards import REPAIRED, Board
from support.db import row_hashes


@pytest.mark.parametrize("version", ["0.14.0", "0.19.0"])
def test_repair_one_task_of_a_hermes_board(board: Board) -> None:
    before = row_hashes(board.db, "tasks", "id")
    code, doc = board.audit("--task", board.ids["orphan"], "--apply", "--yes", command="repair")
    assert code == 0
    assert board.names([r["task_id"] for r in doc["results"]]) == ["orphan"]
    after = row_hashes(board.db, "tasks", "id")
    assert [board.names([k])[0] for k in before if before[k] != after[k]] == ["orphan"]
    steps = board.drive(
        {"op": "claim", "task": "orphan"},
        {"op": "set_pid", "task": "orphan", "pid": board.live_pid},
    )
    assert steps == [{"ok": True}, {"ok": None}]
    code, doc = board.audit()
    assert code == 1
    assert sorted(board.findings(doc)) == sorted(n for n in REPAIRED if n != "orphan")
