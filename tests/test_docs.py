"""The documentation's example sessions are real: each `kanban-audit lint`, `rules` and
`explain` session in a console block is run again and must print what the page shows.

A `$ cat FILE` in the same block gives the file's content (the lines it prints),
so pages can show the code they lint. Sessions on boards (audit, repair, undo,
history, guard) are replayed by test_doc_boards.py, on the boards they need.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.sessions import Session, environment, sessions, shell, shows, write_shown_file

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
CHECKED = ("lint", "rules", "explain")


def _replayable(session: Session) -> bool:
    commands = session.commands
    return all(
        c[0] == "cat" or (c[0] == "kanban-audit" and c[1] in CHECKED) for c in commands
    ) and any(c[0] == "kanban-audit" for c in commands)


CASES = [case for page in PAGES for case in sessions(page, REPO, _replayable)]


def test_the_pages_have_sessions_to_replay() -> None:
    assert len(CASES) >= 5, [case.where for case in CASES]


@pytest.mark.parametrize("session", CASES, ids=[case.where for case in CASES])
def test_a_documented_session_prints_what_the_page_shows(tmp_path: Path, session: Session) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "docs").mkdir()
    env = environment()
    for step in session.steps:
        if write_shown_file(step, tmp_path):
            continue
        _, shown = shell(step.command, tmp_path, env)
        assert shows(step.expected, shown), f"$ {step.command}\n{shown}"
