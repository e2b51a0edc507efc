"""Ctrl-C during `repair --apply`: the report tells what the board shows, the backup stays.

The interrupt is a real SIGINT sent to the installed command while one of its
COMMITs is in flight. The moment is held open with a lock: on a board in
rollback-journal mode a COMMIT needs every reader gone, so a reader in a
third process keeps the repair's COMMIT waiting (a new reader is refused while
it waits, which is how the test sees it), the SIGINT lands, and the reader
lets go. The COMMIT then goes through before Python raises the interrupt.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import boards
from support.cli import KANBAN_AUDIT

ORPHANS = 1000

# Holds a read transaction, from the first moment it sees `after` repairs on the
# board (the count is read inside the transaction it keeps), until told; prints
# how many repairs it saw.
READER = r"""
import sqlite3, sys, time
path, after = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(path, isolation_level=None, timeout=30)
sql = "SELECT count(*) FROM task_events WHERE kind = 'reconciled'"
while True:
    conn.execute("BEGIN")
    seen = conn.execute(sql).fetchone()[0]
    if seen >= after:
        break
    conn.execute("COMMIT")
    time.sleep(0.001)
print(seen, flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
"""


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


def _committing(path: Path) -> bool:
    """Whether a writer waits to commit (holds the pending lock): a new reader is refused."""
    probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0)
    try:
        probe.execute("SELECT count(*) FROM tasks").fetchone()
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return True
    finally:
        probe.close()


def _wait(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"{what} never came"
        time.sleep(0.002)


@pytest.mark.parametrize("after", [0, 1], ids=["first-task", "later-task"])
def test_an_interrupt_during_a_commit_reports_the_board_and_keeps_the_backup(
    tmp_path: Path, after: int
) -> None:
    """`after`: how many repairs the reader lets through before it holds the next COMMIT."""
    path = _board(tmp_path)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), str(after)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    if not after:
        assert reader.stdout.readline() == "0\n"
    proc = subprocess.Popen(
        [str(KANBAN_AUDIT), "repair", str(path), "--apply", "--yes", "--format", "json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if after:
            seen = int(reader.stdout.readline())
            assert seen < ORPHANS, "the repair finished before the reader held the board"
        _wait(lambda: _committing(path), "the repair's COMMIT")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)  # the signal is pending while the COMMIT still waits
        reader.stdin.write("go\n")
        reader.stdin.flush()
        stdout, stderr = proc.communicate(timeout=120)
        assert reader.wait(timeout=30) == 0
    finally:
        for child in (proc, reader):
            if child.poll() is None:
                child.kill()
                child.wait()
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
