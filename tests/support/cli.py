"""The installed `kanban-audit` command, run as a user or CI would."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

KANBAN_AUDIT = Path(sys.executable).parent / "kanban-audit"


def run_cli(*args: Any, timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the installed command with stdin closed; text output captured."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [str(KANBAN_AUDIT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def on_terminal(*args: Any, answer: bytes, timeout: float = 30) -> tuple[int, bytes]:
    """Run the installed command on a pseudo-terminal and answer its [y/N] question.

    Returns the exit code and everything the command showed on the terminal.
    """
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [str(KANBAN_AUDIT), *map(str, args)], stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while b"[y/N]" not in seen:
            assert time.monotonic() < deadline, seen
            if select.select([leader], [], [], 0.1)[0]:
                seen += os.read(leader, 4096)
        os.write(leader, answer)
        return proc.wait(timeout=timeout), seen
    finally:
        proc.kill()
        proc.wait()
        os.close(leader)
