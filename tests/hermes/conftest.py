"""Each release's board, built once per session, copied for each test."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hermes_boards import Board, build, wait_until_lapsed


@pytest.fixture(scope="session")
def live_pid() -> Iterator[int]:
    """A live local worker process for the healthy task."""
    proc = subprocess.Popen(["sleep", "3600"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory, live_pid: int) -> Callable[[str], Path]:
    """Each release's board, built once per session on first use."""
    built: dict[str, Path] = {}

    def get(version: str) -> Path:
        if version not in built:
            home = tmp_path_factory.mktemp("hermes") / version
            build(version, home, live_pid)
            built[version] = home
        return built[version]

    return get


@pytest.fixture
def board(template: Callable[[str], Path], tmp_path: Path, version: str, live_pid: int) -> Board:
    """A copy of the release's board for one test (no process has it open)."""
    home = tmp_path / "home"
    # The -shm file is the live wal-index of processes long gone: SQLite rebuilds it.
    shutil.copytree(template(version), home, ignore=shutil.ignore_patterns("*-shm"))
    copy = Board(version, home, live_pid)
    wait_until_lapsed(copy, "expired")
    return copy
