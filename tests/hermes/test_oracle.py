"""The real Hermes releases as the oracle for audit and repair.

Every release writes its own board (conftest.py); the installed command audits
and repairs it; then the release's own `claim_task` must accept every repaired
task, because a repair that leaves a task the real code cannot claim has failed.
"""

from __future__ import annotations

import pytest
from hermes_boards import REPAIRED, UNTOUCHED, Board
from support import hermes
from support.db import row_hashes, rows

pytestmark = pytest.mark.parametrize("version", list(hermes.RELEASES))


def _runs_of(board: Board, names: tuple[str, ...]) -> dict[int, str]:
    ids = {board.ids[n] for n in names}
    owner = dict(rows(board.db, "SELECT id, task_id FROM task_runs"))
    return {k: v for k, v in row_hashes(board.db, "task_runs", "id").items() if owner[k] in ids}


def _claim_with_live_worker(board: Board, names: tuple[str, ...]) -> list[dict[str, object]]:
    steps = []
    for name in names:
        steps += [
            {"op": "claim", "task": name},
            {"op": "set_pid", "task": name, "pid": board.live_pid},
        ]
    return board.drive(*steps)


def test_audit_and_repair_give_the_promised_verdicts(board: Board) -> None:
    code, doc = board.audit()
    assert code == 1
    found = board.findings(doc)
    assert sorted(found) == sorted(REPAIRED)
    assert {n: found[n]["codes"] for n in REPAIRED} == {
        "orphan": ["KD001", "KD002"],
        "dead": ["KD004"],
        "expired": ["KD003", "KD004"],
    }
    assert {n: found[n]["cause"] for n in REPAIRED} == {
        "orphan": "direct-write",
        "dead": "claim-path",
        "expired": "claim-path",
    }
    assert all(found[n]["repairable"] for n in REPAIRED)

    tasks_before = row_hashes(board.db, "tasks", "id")
    runs_before = _runs_of(board, UNTOUCHED)
    code, doc = board.audit("--apply", "--yes", command="repair")
    assert code == 0
    assert board.names([r["task_id"] for r in doc["results"]]) == sorted(REPAIRED)
    assert {r["result"] for r in doc["results"]} == {"repaired"}

    tasks_after = row_hashes(board.db, "tasks", "id")
    assert all(tasks_after[board.ids[n]] == tasks_before[board.ids[n]] for n in UNTOUCHED)
    assert _runs_of(board, UNTOUCHED) == runs_before
    for name in REPAIRED:
        task = board.task(name)
        assert (task["status"], task["claim_lock"], task["claim_expires"]) == ("ready", None, None)
        assert (task["worker_pid"], task["current_run_id"]) == (None, None)
        assert board.open_runs(name) == []
    assert board.audit("--apply", "--yes", command="repair")[0] == 0

    # The oracle: the release's own claim path takes every repaired task back.
    results = _claim_with_live_worker(board, REPAIRED)
    assert results == [{"ok": True}, {"ok": None}] * len(REPAIRED)
    code, doc = board.audit()
    assert (code, doc["findings"]) == (0, [])


def test_the_orphan_stays_repairable_after_hermes_connect(board: Board) -> None:
    """Hermes' connect() back-fills an open run, with no claim, for the orphan."""
    assert board.drive() == []
    (run,) = board.open_runs("orphan")
    assert run[1] is None
    assert board.task("orphan")["current_run_id"] == run[0]

    _, doc = board.audit()
    orphan = board.findings(doc)["orphan"]
    assert orphan["codes"] == ["KD002"]
    assert (orphan["repairable"], orphan["cause"]) == (True, "direct-write")
    assert orphan["action"] == f"demote to ready; close run #{run[0]}"

    assert board.audit("--apply", "--yes", command="repair")[0] == 0
    assert board.open_runs("orphan") == []
    assert rows(board.db, "SELECT outcome FROM task_runs WHERE id = ?", run[0]) == [("reclaimed",)]
    assert _claim_with_live_worker(board, ("orphan",)) == [{"ok": True}, {"ok": None}]


def test_hermes_own_sweeps_leave_the_dashboard_orphan_running(board: Board) -> None:
    """Why the tool exists: the board's sweeps look only at claimed tasks."""
    results = board.drive(
        {"op": "release_stale"},
        {"op": "detect_crashed"},
        env={"HERMES_KANBAN_CRASH_GRACE_SECONDS": "0"},
    )
    assert results == [{"ok": 1}, {"ok": ["dead"]}]
    assert board.task("expired")["status"] == "ready"
    assert board.task("dead")["status"] == "ready"
    assert board.task("orphan")["status"] == "running"
    assert board.task("live")["status"] == "running"

    _, doc = board.audit()
    found = board.findings(doc)
    assert sorted(found) == ["orphan"]
    assert found["orphan"]["repairable"] is True
