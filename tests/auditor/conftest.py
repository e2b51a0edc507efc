"""Real worker processes, shared by the audit tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from support import boards


@pytest.fixture
def worker() -> Iterator[psutil.Process]:
    """A live local worker process."""
    proc = subprocess.Popen(["sleep", "300"])
    try:
        yield psutil.Process(proc.pid)
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def zombie() -> Iterator[int]:
    """A PID that is a zombie: the process exited and was not reaped."""
    proc = subprocess.Popen(["true"])
    deadline = time.monotonic() + 10
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "child did not become a zombie"
        time.sleep(0.01)
    try:
        yield proc.pid
    finally:
        proc.wait()


@pytest.fixture
def dead_pid() -> int:
    """A PID whose process has exited and been reaped."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert not psutil.pid_exists(proc.pid)
    return proc.pid


@pytest.fixture
def full_board(
    tmp_path: Path, worker: psutil.Process, zombie: int, dead_pid: int
) -> dict[str, Any]:
    """One board holding every state, and the clock it was built at."""
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    started = worker.create_time()
    boards.idle(conn, "ready", now)
    boards.idle(conn, "todo", now, status="todo")
    boards.finished(conn, "done", now)
    live_run = boards.live_worker(conn, "live", now, worker.pid, started)
    boards.remote_worker(conn, "remote", now)
    boards.fresh_claim(conn, "fresh", now)
    boards.lapsed_alive(conn, "lapsed-alive", now, worker.pid, started)
    boards.direct_write(conn, "direct", now)
    boards.dead_worker(conn, "dead", now, dead_pid)
    boards.zombie_worker(conn, "zombie", now, zombie)
    boards.reused_pid(conn, "reused", now, worker.pid, started)
    boards.expired_dead(conn, "expired-dead", now, dead_pid)
    boards.never_spawned(conn, "never-spawned", now)
    boards.ended_run(conn, "ended-run", now, dead_pid)
    boards.foreign_run(conn, "foreign-run", now, dead_pid, live_run)
    boards.run_without_claim(conn, "backfilled", now)
    boards.dangling_run(conn, "dangling", now)
    boards.remote_expired(conn, "remote-expired", now)
    conn.close()
    return {"path": path, "now": now}
