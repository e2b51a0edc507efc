"""The console sessions a documentation page shows, and how to replay them.

A session is a ```console block: lines starting with `$ ` are commands, the
lines after one are what it printed (stdout and stderr, in the order a
terminal shows them). `$ cat FILE` shows a file: replaying it writes the file.
A line `...` stands for lines the page leaves out (any number, none included).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from support.cli import KANBAN_AUDIT

BLOCK = re.compile(r"```console\n(.*?)```", re.S)
ELIDED = "..."


@dataclass(frozen=True)
class Step:
    command: str
    expected: str


@dataclass(frozen=True)
class Session:
    where: str  # page#n: the n-th console block of the page
    steps: tuple[Step, ...]

    @property
    def commands(self) -> list[list[str]]:
        return [step.command.split() for step in self.steps]


def sessions(page: Path, root: Path, keep: Callable[[Session], bool]) -> list[Session]:
    """The page's console blocks that `keep` accepts, numbered as they appear."""
    found = []
    for number, match in enumerate(BLOCK.finditer(page.read_text()), 1):
        steps: list[tuple[str, list[str]]] = []
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        where = f"{page.relative_to(root)}#{number}"
        session = Session(where, tuple(Step(c, "\n".join(out)) for c, out in steps))
        if steps and keep(session):
            found.append(session)
    return found


def environment(**extra: str) -> dict[str, str]:
    """This environment with the installed command first on PATH, no width or colour forced."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    env["PATH"] = f"{KANBAN_AUDIT.parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def write_shown_file(step: Step, cwd: Path) -> bool:
    """Replay `$ cat FILE` by writing the file the page shows; False for other commands."""
    argv = step.command.split()
    if argv[0] != "cat" or len(argv) != 2:
        return False
    (cwd / argv[1]).write_text(step.expected + "\n")
    return True


def shell(command: str, cwd: Path, env: dict[str, str], status: int = 0) -> tuple[int, str]:
    """Run a page's command line in bash; `$?` in it is `status`, the previous command's."""
    done = subprocess.run(
        ["bash", "-c", f"(exit {status}); {command}"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # in the order a terminal shows them
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout.rstrip("\n")


def shows(expected: str, shown: str) -> bool:
    """Whether the output is what the page shows, a line `...` standing for any lines."""
    parts = [
        "(?:[^\n]*\n)*?" if line == ELIDED else re.escape(line) + "\n"
        for line in expected.split("\n")
    ]
    return re.fullmatch("".join(parts), shown + "\n") is not None
