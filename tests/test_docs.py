"""The documentation's example sessions are real: each `kanban-audit lint`, `rules` and
`explain` session in a console block is run again and must print what the page shows.

A `$ cat FILE` in the same block gives the file's content (the lines it prints),
so pages can show the code they lint. Sessions on boards (audit, repair, guard)
carry clocks and host names; their pages are checked by the auditor's tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.cli import KANBAN_AUDIT

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
CHECKED = ("lint", "rules", "explain")


def sessions(page: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(block id, [(command, expected output)]) for the blocks this test can replay."""
    found = []
    text = page.read_text()
    for number, match in enumerate(BLOCK.finditer(text), 1):
        steps: list[tuple[str, list[str]]] = []
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        commands = [command.split() for command, _ in steps]
        replayable = steps and all(
            c[0] == "cat" or (c[0] == "kanban-audit" and c[1] in CHECKED) for c in commands
        )
        if replayable and any(c[0] == "kanban-audit" for c in commands):
            where = f"{page.relative_to(REPO)}#{number}"
            found.append((where, [(cmd, "\n".join(out)) for cmd, out in steps]))
    return found


CASES = [case for page in PAGES for case in sessions(page)]


def test_the_pages_have_sessions_to_replay() -> None:
    assert len(CASES) >= 5, [where for where, _ in CASES]


@pytest.mark.parametrize("steps", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_a_documented_session_prints_what_the_page_shows(
    tmp_path: Path, steps: list[tuple[str, str]]
) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "docs").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    env["PATH"] = f"{KANBAN_AUDIT.parent}{os.pathsep}{env.get('PATH', '')}"
    for command, expected in steps:
        if command.startswith("cat "):
            (tmp_path / command.split()[1]).write_text(expected + "\n")
            continue
        done = subprocess.run(
            command,
            shell=True,
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # in the order a terminal shows them
            text=True,
            timeout=300,
        )
        shown = done.stdout.rstrip("\n")
        assert shown == expected, f"$ {command}\n{shown}"
