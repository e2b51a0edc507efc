"""A real SIGINT that lands while a command's COMMIT is in flight, timed with a lock.

On a board in rollback-journal mode a COMMIT needs every reader gone. A reader
in another process keeps the command's COMMIT waiting (a new reader is then
refused, which is how the test sees the moment), the SIGINT lands, and the
reader lets go: the COMMIT goes through before Python raises the interrupt.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from support.cli import KANBAN_AUDIT

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


class Reader:
    """The reader process: `held()` waits until it holds the board, `release()` lets go."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def held(self) -> int:
        """Wait until the board is held; how many repairs were on it then."""
        assert self.proc.stdout is not None
        return int(self.proc.stdout.readline())

    def release(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        assert self.proc.wait(timeout=30) == 0


@contextmanager
def reader(path: Path, after: int = 0) -> Iterator[Reader]:
    """A reader that holds `path` once `after` repairs are on it (0: at once)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), str(after)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield Reader(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def committing(path: Path) -> bool:
    """Whether a writer waits to commit (holds the pending lock): a new reader is refused."""
    probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0)
    try:
        probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return True
    finally:
        probe.close()


def run_interrupted(
    path: Path, held: Reader, *args: str, started: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed command on `path` and SIGINT it while its COMMIT waits for `held`.

    `started` is called once the command runs (to wait for the reader, say);
    then the COMMIT is let through after the signal.
    """
    command = [str(KANBAN_AUDIT), *args]
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        if started is not None:
            started()
        deadline = time.monotonic() + 60
        while not committing(path):
            assert proc.poll() is None, "the command ended without waiting to commit"
            assert time.monotonic() < deadline, "the command's COMMIT never came"
            time.sleep(0.002)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)  # the signal is pending while the COMMIT still waits
        held.release()
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)
