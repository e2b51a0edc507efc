"""A board whose own triggers change what a repair writes: rolled back and reported, never counted.

SQLite runs a board's triggers inside the repair's own transaction, so a
trigger can undo the demotion or change rows the repair never meant to touch.
Repair reads back what it wrote and counts the rows changed before it commits.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support import boards
from support.cli import run_cli, run_json

ORPHANS = ("t1", "t2", "t3")
OTHERS = 100

# Puts the task straight back into running and deletes a hundred other tasks.
UNDO = """
CREATE TRIGGER undo_repair AFTER UPDATE OF status ON tasks
WHEN OLD.status = 'running' AND NEW.status = 'ready'
BEGIN
  UPDATE tasks SET status = 'running' WHERE id = NEW.id;
  DELETE FROM tasks WHERE id LIKE 'other%';
END
"""
# Leaves the repaired rows as written, but deletes other tasks on every event.
SIDE_EFFECT = """
CREATE TRIGGER prune AFTER INSERT ON task_events
BEGIN
  DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE id LIKE 'other%' LIMIT 10);
END
"""


def _board(tmp_path: Path, trigger: str) -> Path:
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    for task_id in ORPHANS:
        boards.never_spawned(conn, task_id, now)
    for i in range(OTHERS):
        boards.idle(conn, f"other{i:03d}", now)
    conn.execute(trigger)
    conn.close()
    return path


@pytest.mark.parametrize(
    ("trigger", "name", "what"),
    [
        (UNDO, "undo_repair", "the task's status is 'running'"),
        (SIDE_EFFECT, "prune", "13 rows changed where the repair wrote 3"),
    ],
)
def test_a_repair_the_board_changes_is_rolled_back_and_reported(
    tmp_path: Path, trigger: str, name: str, what: str
) -> None:
    path = _board(tmp_path, trigger)
    before = boards.board_hash(path)
    for _ in range(2):  # and a second --apply tells the same, never "repaired"
        code, doc = run_json("repair", path, "--apply", "--yes")
        assert code == 1
        assert doc["summary"]["repaired"] == 0
        assert [r["result"] for r in doc["results"]] == ["skipped"] * len(ORPHANS)
        for result in doc["results"]:
            assert result["detail"].startswith("rolled back: the board changed the repair"), result
            assert what in result["detail"]
            assert repr(name) in result["detail"]
        assert boards.board_hash(path) == before
    text = run_cli("repair", path, "--apply", "--yes")
    assert text.returncode == 1
    assert text.stdout.splitlines()[-1] == "repaired 0, skipped 3"


def test_the_audit_warns_about_the_boards_triggers_but_not_the_guards(tmp_path: Path) -> None:
    path = _board(tmp_path, UNDO)
    assert run_cli("guard", "install", path, "--yes").returncode == 0
    code, doc = run_json("audit", path)
    assert code == 1
    assert doc["triggers"] == [{"name": "undo_repair", "table": "tasks"}]
    text = run_cli("audit", path).stdout
    warnings = [line for line in text.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: trigger 'undo_repair' on 'tasks' can change what a repair writes"
        " (repair checks each write and rolls back one the board changes)"
    ]


def test_a_board_without_triggers_is_repaired_as_before(tmp_path: Path) -> None:
    path = _board(tmp_path, "SELECT 1")
    code, doc = run_json("repair", path, "--apply", "--yes")
    assert code == 0
    assert doc["triggers"] == []
    assert [r["result"] for r in doc["results"]] == ["repaired"] * len(ORPHANS)
    assert boards.rows(path, "SELECT count(*) FROM tasks WHERE id LIKE 'other%'") == [(OTHERS,)]


# Refuses the repair of one task: RAISE(ABORT) in its update, RAISE(FAIL) in its event.
REFUSES = {
    "abort-update": "CREATE TRIGGER frozen BEFORE UPDATE ON tasks WHEN OLD.id = 't2'"
    " BEGIN SELECT RAISE(ABORT, 'task t2 is frozen'); END",
    "fail-event": "CREATE TRIGGER frozen AFTER INSERT ON task_events"
    " WHEN NEW.task_id = 't2' AND NEW.kind = 'reconciled'"
    " BEGIN SELECT RAISE(FAIL, 'task t2 is frozen'); END",
    "rollback-update": "CREATE TRIGGER frozen BEFORE UPDATE ON tasks WHEN OLD.id = 't2'"
    " BEGIN SELECT RAISE(ROLLBACK, 'task t2 is frozen'); END",
}


@pytest.mark.parametrize("kind", list(REFUSES))
def test_a_trigger_that_refuses_one_repair_skips_that_task_only(tmp_path: Path, kind: str) -> None:
    """A board that raises on one task's repair: that task is skipped with the board's
    words, every other task is repaired, and nothing of the refused one is written."""
    path = _board(tmp_path, REFUSES[kind])
    t2_before = boards.row_hashes(path, "tasks", "id")["t2"]
    code, doc = run_json("repair", path, "--apply", "--yes")
    assert code == 1
    results = {r["task_id"]: r for r in doc["results"]}
    assert [results[t]["result"] for t in ORPHANS] == ["repaired", "skipped", "repaired"]
    assert results["t2"]["detail"] == "the board refused the repair: task t2 is frozen"
    assert boards.row_hashes(path, "tasks", "id")["t2"] == t2_before
    assert boards.rows(
        path, "SELECT count(*) FROM task_events WHERE kind = 'reconciled' AND task_id = 't2'"
    ) == [(0,)]
    assert boards.rows(path, "SELECT count(*) FROM tasks WHERE status = 'running'") == [(1,)]
