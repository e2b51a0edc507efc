"""Ctrl-C: every command ends with exit 130 and one line on stderr, no traceback.

A real SIGINT reaches the installed command while it works: from a terminal
(to the whole process group, worker processes included) during a lint of a
large tree and at a confirmation prompt, and from a script (to the command's
own process) while an audit waits for a board someone else holds locked.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import boards
from support.cli import KANBAN_AUDIT
from support.tty import run_tty

INTERRUPTED = "kanban-audit: interrupted"
WRITE = (
    "def move_{n}(conn, s):\n    conn.execute('UPDATE tasks SET status = ? WHERE id = 1', (s,))\n"
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and terminals")


def _one_line(text: str) -> None:
    """Only the interruption is said (the terminal's own `^C` echo aside)."""
    assert "Traceback" not in text, text
    lines = [line for line in text.replace("^C", "").splitlines() if line.strip()]
    assert lines[-1] == INTERRUPTED, text
    assert "aborted" not in text, text


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_during_a_lint_exits_130(tmp_path: Path, jobs: str) -> None:
    for n in range(400):
        (tmp_path / f"mod_{n:03}.py").write_text(WRITE.format(n=n))
    run = run_tty(
        "lint", "--no-cache", "--jobs", jobs, cwd=tmp_path, stdout=False,
        interrupt_at=b"Analysing files:",
    )  # fmt: skip
    assert run.code == 130, run.tty
    _one_line(run.tty.split("Analysing files:")[-1].split("\r")[-1])
    assert run.stdout == ""  # no report of a part of the tree
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("mod_")) == []


def _open_by(pid: int, path: Path) -> bool:
    try:
        return any(
            os.path.realpath(f"/proc/{pid}/fd/{fd}") == str(path)
            for fd in os.listdir(f"/proc/{pid}/fd")
        )
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see the wait")
def test_ctrl_c_while_an_audit_waits_for_a_locked_board_exits_130(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    conn = boards.create(path, wal=False)
    boards.direct_write(conn, "a", int(time.time()))
    conn.commit()
    conn.execute("BEGIN EXCLUSIVE")  # readers of a rollback-journal board wait
    try:
        proc = subprocess.Popen(
            [str(KANBAN_AUDIT), "audit", str(path), "--busy-timeout", "5000"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not _open_by(proc.pid, path.resolve()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        conn.rollback()
        conn.close()
    assert proc.returncode == 130, err
    assert (out, err) == ("", INTERRUPTED + "\n")


@pytest.mark.parametrize(
    "command",
    [["repair", "--apply"], ["guard", "install"]],
    ids=["repair", "guard"],
)
def test_ctrl_c_at_the_confirmation_prompt_exits_130_and_writes_nothing(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.direct_write(conn, "a", int(time.time()))
    conn.close()
    before = boards.board_hash(path)
    run = run_tty(command[0], *command[1:], path, stdout=False, interrupt_at=b"[y/N]")
    assert run.code == 130, run.tty
    _one_line(run.tty.split("[y/N]")[-1])
    assert boards.board_hash(path) == before
    assert sorted(tmp_path.glob("*.bak")) == []


def _slow_to_summarise(n: int) -> str:
    """A writer in a module of `n` list assignments: about a second per two thousand."""
    writer = [
        "def move(conn, s):",
        "    conn.execute('UPDATE tasks SET status = ? WHERE id = 1', (s,))",
    ]
    values = [f"v{k} = [{k}, {k} + 1, str({k})]" for k in range(n)]
    return "\n".join([*writer, *values, ""])


def test_ctrl_c_stops_the_files_being_parsed_in_parallel(tmp_path: Path) -> None:
    """Each worker is in the middle of a file that takes minutes: Ctrl-C (to the
    whole process group, as a terminal sends it) ends the run at once, workers too."""
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(_slow_to_summarise(40000))
    proc = subprocess.Popen(
        [str(KANBAN_AUDIT), "lint", "--no-cache", "--jobs", "2"], cwd=tmp_path,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        time.sleep(5)  # both workers are well inside their file
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert (proc.returncode, out) == (130, ""), err
    _one_line(err)
    time.sleep(0.5)
    leftover = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True)
    assert leftover.stdout == ""  # no worker left parsing
