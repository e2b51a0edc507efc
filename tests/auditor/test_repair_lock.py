"""repair against a real lock holder in another process: the report tells what the board shows."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import boards, lockholders
from support.cli import KANBAN_AUDIT, run_cli
from support.tty import run_tty

ORPHANS = 6000


@pytest.mark.parametrize("trigger", ["writes", "backup"])
def test_lock_met_mid_run_reports_what_was_done(tmp_path: Path, trigger: str) -> None:
    """With --busy-timeout 0 the repair meets the holder's lock and stops.

    `writes`: the holder takes the lock after the first repairs: exit 1, each
    repaired task listed, the rest skipped with the reason, the backup named.
    `backup`: the holder takes it as the backup appears, usually before the
    first repair: then exit 2, nothing written and no backup left; if the
    repair got in first, the same report as above. Either way the report
    matches the board.
    """
    path = tmp_path / "kanban.db"
    boards.orphans(path, ORPHANS)
    before = boards.board_hash(path)
    holder = lockholders.midway(path, trigger)
    proc = run_cli(
        "repair", path, "--apply", "--yes", "--busy-timeout", "0", "--format", "json", timeout=120
    )
    out, err = holder.communicate(timeout=60)
    assert holder.returncode == 0 and "held" in out, err
    assert "Traceback" not in proc.stderr
    repaired, untouched = boards.repair_state(path)
    backups = sorted(tmp_path.glob("*.bak"))
    if proc.returncode == 2:
        assert trigger == "backup", proc.stderr
        assert proc.stdout == ""
        assert proc.stderr.count("\n") == 1 and "board is locked" in proc.stderr
        assert boards.board_hash(path) == before
        assert backups == []
        return
    assert (proc.returncode, proc.stderr) == (1, "")
    doc = json.loads(proc.stdout)
    results = {r["task_id"]: r for r in doc["results"]}
    assert len(results) == ORPHANS
    assert {t for t, r in results.items() if r["result"] == "repaired"} == repaired
    assert {t for t, r in results.items() if r["result"] == "skipped"} == untouched
    assert 0 < len(repaired) < ORPHANS
    assert all("board is locked" in results[t]["detail"] for t in untouched)
    assert doc["summary"]["repaired"] == len(repaired)
    assert doc["summary"]["skipped"] == len(untouched)
    assert doc["summary"]["stopped"].startswith("board is locked")
    assert [Path(doc["backup"])] == backups
    assert boards.board_hash(backups[0]) == before


def test_text_report_after_a_lock_names_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    boards.orphans(path, ORPHANS)
    holder = lockholders.midway(path, "writes")
    proc = run_cli("repair", path, "--apply", "--yes", "--busy-timeout", "0", timeout=120)
    holder.communicate(timeout=60)
    assert (proc.returncode, proc.stderr) == (1, "")
    repaired, untouched = boards.repair_state(path)
    (saved,) = tmp_path.glob("*.bak")
    lines = proc.stdout.splitlines()
    assert f"backup: {saved}" in lines
    assert sum(line.startswith("repaired t") for line in lines) == len(repaired)
    assert sum(line.startswith("skipped t") for line in lines) == len(untouched)
    assert lines[-1].startswith(
        f"repaired {len(repaired)}, skipped {len(untouched)} (stopped: board is locked: {path}"
    )


def test_a_long_lock_wait_is_announced_on_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    boards.orphans(path, 5)
    holder = lockholders.hold(path, 2.5)
    run = run_tty(
        "repair", path, "--apply", "--yes", "--format", "json", "--busy-timeout", "20000",
        stdout=False,
    )  # fmt: skip
    holder.wait(timeout=30)
    assert run.code == 0, run.tty
    assert run.tty.count("waiting for the board's write lock...") == 1, run.tty
    assert json.loads(run.stdout)["summary"]["repaired"] == 5


def test_no_lock_notice_off_a_terminal_or_without_a_wait(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    boards.orphans(path, 5)
    holder = lockholders.hold(path, 2.5)
    proc = run_cli("repair", path, "--apply", "--yes", "--no-backup", "--busy-timeout", "20000")
    holder.wait(timeout=30)
    assert (proc.returncode, proc.stderr) == (0, "")
    boards.orphans(path := tmp_path / "second.db", 5)
    run = run_tty("repair", path, "--apply", "--yes", "--no-backup")
    assert run.code == 0 and "waiting" not in run.tty


# Another process that writes in short connections while a repair runs, as the
# dispatcher does. Each close checks whether it is the last connection to the
# board (and would then checkpoint and delete the WAL): it must always find the
# repair's connection there, or the two processes write to different WALs and
# their checkpoints overwrite each other's pages.
WRITER = r"""
import glob, sqlite3, sys, time
path = sys.argv[1]
while not glob.glob(path + ".*.bak"):
    time.sleep(0.0005)
deadline, n = time.monotonic() + 3, 0
while time.monotonic() < deadline:
    n += 1
    conn = sqlite3.connect(path, timeout=30)
    conn.execute("UPDATE tasks SET title = ? WHERE id = 'idle'", (f"write {n}",))
    conn.commit()
    conn.close()
print(n)
"""


def test_a_writer_closing_meanwhile_loses_nothing(tmp_path: Path) -> None:
    """Every repair the report lists is on the board, and so is every write of the other process."""
    path = tmp_path / "kanban.db"
    boards.orphans(path, 3000)
    conn = sqlite3.connect(path)
    boards.idle(conn, "idle", int(time.time()))
    conn.commit()
    conn.close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc = run_cli("repair", path, "--apply", "--yes", "--format", "json", timeout=120)
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err  # it meets a malformed board when the WAL was deleted
    writes = int(out)
    assert (proc.returncode, proc.stderr) == (0, "")
    reported = {r["task_id"] for r in json.loads(proc.stdout)["results"]}
    assert boards.repair_state(path) == (reported, set())
    assert boards.rows(path, "SELECT title FROM tasks WHERE id = 'idle'") == [(f"write {writes}",)]
    assert boards.rows(path, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize(
    "command", [["repair", "--apply", "--yes"], ["guard", "install", "--yes"]], ids=" ".join
)
def test_ctrl_c_while_waiting_for_the_write_lock_stops_at_once(
    tmp_path: Path, command: list[str]
) -> None:
    """SQLite's busy wait sleeps in C, where Python sees no signal: Ctrl-C during a
    two-minute wait for the lock once took effect only when the wait ran out."""
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.direct_write(conn, "t1", int(time.time()))
    conn.execute("BEGIN IMMEDIATE")  # a dispatcher holding the write lock
    try:
        repair = subprocess.Popen(
            [str(KANBAN_AUDIT), *command, path, "--busy-timeout", "120000"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)  # well into the wait
        sent = time.monotonic()
        repair.send_signal(signal.SIGINT)
        _, err = repair.communicate(timeout=150)
        waited = time.monotonic() - sent
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert repair.returncode == 130, err
    assert waited < 5, f"Ctrl-C took {waited:.1f} s"
    assert not list(tmp_path.glob("*.bak"))
    assert boards.rows(path, "SELECT status FROM tasks") == [("running",)]
    assert boards.rows(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") == [(0,)]
