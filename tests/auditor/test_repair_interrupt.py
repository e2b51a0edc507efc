"""Ctrl-C during `repair --apply`: the report tells what the board shows, the backup stays.

The interrupt is a real SIGINT sent to the installed command while one of its
COMMITs is in flight, timed with a reader's lock (support/commits.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from support import boards, commits

ORPHANS = 1000


def _board(tmp_path: Path) -> Path:
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path, wal=False)
    conn.execute("BEGIN")
    for i in range(ORPHANS):
        boards.never_spawned(conn, f"t{i:03d}", now)
    conn.execute("COMMIT")
    conn.close()
    return path


@pytest.mark.parametrize("after", [0, 1], ids=["first-task", "later-task"])
def test_an_interrupt_during_a_commit_reports_the_board_and_keeps_the_backup(
    tmp_path: Path, after: int
) -> None:
    """`after`: how many repairs the reader lets through before it holds the next COMMIT."""
    path = _board(tmp_path)
    with commits.reader(path, after) as reader:
        if not after:
            assert reader.held() == 0

        def first_repairs_done() -> None:
            if after:
                seen = reader.held()
                assert seen < ORPHANS, "the repair finished before the reader held the board"

        args = ["repair", str(path), "--apply", "--yes", "--format", "json"]
        proc = commits.run_interrupted(path, reader, *args, started=first_repairs_done)
    stdout, stderr = proc.stdout, proc.stderr
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "aborted" not in stderr
    assert "interrupted" in stderr
    doc = json.loads(stdout)
    on_board = boards.repair_state(path)[0]
    assert len(on_board) > after, "the COMMIT in flight went through"
    reported = {r["task_id"] for r in doc["results"] if r["result"] == "repaired"}
    assert reported == on_board
    assert doc["summary"]["interrupted"] is True
    assert doc["summary"]["stopped"] == "interrupted"
    skipped = [r for r in doc["results"] if r["result"] == "skipped"]
    assert len(skipped) == ORPHANS - len(on_board)
    assert all("interrupted" in r["detail"] for r in skipped)
    assert doc["backup"] and Path(doc["backup"]).is_file()
    backup_ids = boards.rows(
        Path(doc["backup"]), "SELECT count(*) FROM tasks WHERE status = 'running'"
    )
    assert backup_ids == [(ORPHANS,)]
