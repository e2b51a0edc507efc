"""Run the installed command with some of its standard streams on a real pseudo-terminal.

A person at a terminal, `kanban-audit ... | tee log` and a cron job differ only
in which of stdin, stdout and stderr are terminals; each test picks them.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from dataclasses import dataclass
from typing import Any

from support.cli import KANBAN_AUDIT


@dataclass
class TtyRun:
    code: int
    tty: str  # everything written to the terminal, "\r\n" read as "\n"
    stdout: str  # what went to a pipe when stdout was not the terminal
    stderr: str


def run_tty(
    *args: Any,
    stdin: bool = True,
    stdout: bool = True,
    stderr: bool = True,
    answers: dict[bytes, bytes] | None = None,
    interrupt_at: bytes | None = None,
    columns: int = 200,
    env: dict[str, str] | None = None,
    cwd: Any = None,
    timeout: float = 60,
) -> TtyRun:
    """Run `kanban-audit *args` with the chosen streams on a pty of `columns` columns.

    `answers` maps a prompt (bytes seen on the terminal) to what is typed once
    it appears; once `interrupt_at` appears, Ctrl-C is pressed (SIGINT to the
    command's process group, as the terminal sends it). Streams not on the
    terminal are pipes (stdin: /dev/null).
    """
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    pipe = subprocess.PIPE
    proc = subprocess.Popen(
        [str(KANBAN_AUDIT), *map(str, args)],
        stdin=follower if stdin else subprocess.DEVNULL,
        stdout=follower if stdout else pipe,
        stderr=follower if stderr else pipe,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    os.close(follower)
    piped: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda n=name, s=stream: piped.__setitem__(n, s.read()))
        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr))
        if stream is not None
    ]
    for reader in readers:
        reader.start()
    seen, pending = b"", dict(answers or {})
    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline, seen
        if select.select([leader], [], [], 0.05)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every holder of the terminal is gone
                chunk = b""
            if not chunk and proc.poll() is not None:
                break
            seen += chunk
            for prompt in [p for p in pending if p in seen]:
                os.write(leader, pending.pop(prompt))
            if interrupt_at is not None and interrupt_at in seen:
                _wait_until_asleep(proc.pid)
                os.killpg(proc.pid, signal.SIGINT)
                interrupt_at = None
        elif proc.poll() is not None and not readers_alive(readers):
            break
    os.close(leader)
    code = proc.wait(timeout=timeout)
    for reader in readers:
        reader.join(timeout)
    text = {name: data.decode() for name, data in piped.items()}
    return TtyRun(
        code, seen.decode().replace("\r\n", "\n"), text.get("stdout", ""), text.get("stderr", "")
    )


def _wait_until_asleep(pid: int, timeout: float = 2) -> None:
    """Until the process sleeps (waits for input, a lock, its workers), as a person's
    Ctrl-C finds it. A SIGINT that lands between writing a prompt and the read
    that follows is only seen by Python when the read returns (a CPython race)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "S":
                    return
        except OSError:  # no /proc: give it a moment instead
            time.sleep(0.5)
            return
        time.sleep(0.02)


def readers_alive(readers: list[threading.Thread]) -> bool:
    return any(reader.is_alive() for reader in readers)
