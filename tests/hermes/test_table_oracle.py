"""The audit's table on a board a real Hermes release wrote, on a 100-column terminal."""

from __future__ import annotations

import re

import pytest
from hermes_boards import REPAIRED, Board
from support.tty import run_tty

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("version", ["0.19.0"])
def test_a_100_column_terminal_shows_title_assignee_and_age(board: Board) -> None:
    run = run_tty("audit", board.db, "--grace", "0", columns=100, env={"NO_COLOR": "1"})
    lines = ANSI.sub("", run.tty).splitlines()
    header = lines[0].split()
    assert header == ["TASK", "TITLE", "ASSIGNEE", "AGE", "CODES", "CAUSE", "WHY", "ACTION"]
    table = lines[: next(i for i, line in enumerate(lines) if line.startswith("guard: "))]
    assert max(map(len, table)) <= 100
    rows = {line.split()[0]: line.split() for line in table[1:] if not line.startswith(" ")}
    names = {board.ids[n]: n for n in REPAIRED}
    assert set(rows) == set(names)
    for task_id, cells in rows.items():
        assert cells[1] == names[task_id]  # the title Hermes was given
        assert cells[2] == "-"  # no assignee
        assert re.fullmatch(r"\d+[smhd]", cells[3]) or cells[3] == "-"
    assert not any(re.search(r"KD\d{3}:", line) for line in table)
    for line in table:
        assert line.count("(") == line.count(")"), line
