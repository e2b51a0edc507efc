"""Output for people: counted words, a table that fits the terminal, colour only where wanted."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from support import boards
from support.cli import run_cli, run_json
from support.tty import run_tty

ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLUMNS = ("TASK", "TITLE", "ASSIGNEE", "AGE", "CODES", "CAUSE", "WHY", "ACTION")


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    return {**env, "TERM": "xterm", **values}


def test_one_of_each_is_singular(tmp_path: Path) -> None:
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.dangling_run(conn, "d", now)
    conn.close()
    audit = run_cli("audit", path)
    assert (
        audit.stdout.splitlines()[-1] == f"{path}: 0 running, 1 open run, 1 finding (1 repairable)"
    )
    dry = run_cli("repair", path)
    assert dry.stdout.splitlines()[-1] == "dry run: 1 repair planned; --apply to write"
    asked = run_tty("repair", path, "--apply", answers={b"[y/N]": b"n\n"})
    assert f"Repair 1 task in {path}? [y/N]" in asked.tty


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """Read a table back: column cells by header position, continuation lines joined."""
    lines = ANSI.sub("", text).splitlines()
    header = lines[0]
    shown = [name for name in COLUMNS if name in header.split()]
    starts = [header.index(name) for name in shown]
    rows: list[dict[str, str]] = []
    for line in lines[1:]:
        if line.startswith("guard: ") or (": " in line and " running, " in line):
            break  # the guard's line, then the summary line
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        if cells[0]:
            rows.append(dict(zip(shown, cells, strict=True)))
            continue
        assert line[: starts[0] + 1].strip() == "", line
        for name, cell in zip(shown, cells, strict=True):
            if cell:
                rows[-1][name] = f"{rows[-1][name]} {cell}".strip()
    return lines, rows


def _whole(full_board: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each task's WHY (the reasons, without the codes the CODES column shows) and ACTION
    (a held-back task's reason left out when WHY says it already)."""
    _, doc = run_json("audit", full_board["path"], "--now", full_board["now"])
    whole = {}
    for f in doc["findings"]:
        why = "; ".join(reason.split(": ", 1)[1] for reason in f["why"])
        reason, _, rest = f["action"].partition("; ")
        said = reason.startswith("none: ") and reason[len("none: ") :] in why
        whole[f["task_id"]] = {"WHY": why, "ACTION": f"none; {rest}" if said else f["action"]}
    return whole


def _same_words(a: str, b: str) -> bool:
    """Equal once wrapping is undone (a cut long word joins without the space)."""
    return a.replace(" ", "") == b.replace(" ", "")


@pytest.mark.parametrize("width", [70, 100])
def test_columns_fit_the_width_and_lose_nothing(full_board: dict[str, Any], width: int) -> None:
    proc = run_tty(
        "audit", full_board["path"], "--now", full_board["now"], columns=width, env=_env()
    )
    assert proc.code == 1
    lines, rows = _rows(proc.tty)
    table = lines[: lines.index(next(x for x in lines if x.startswith("guard: ")))]
    assert max(map(len, table)) <= width
    assert len(table) > len(rows) + 1  # some cells wrapped
    whole = _whole(full_board)
    assert {r["TASK"] for r in rows} == set(whole)
    for row in rows:
        for name in ("WHY", "ACTION"):
            assert _same_words(row[name], whole[row["TASK"]][name]), (row, whole[row["TASK"]])


def test_a_pipe_gets_full_lines(full_board: dict[str, Any]) -> None:
    now = full_board["now"]
    proc = run_cli("audit", full_board["path"], "--now", now, env=_env(COLUMNS="60"))
    lines, rows = _rows(proc.stdout)
    assert len(rows) == len(lines) - 4  # a line a finding; header, processes, guard, summary
    assert max(map(len, lines)) > 150
    assert "\x1b[" not in proc.stdout


def test_a_terminal_gets_a_fitted_table_in_colour(full_board: dict[str, Any]) -> None:
    run = run_tty("audit", full_board["path"], "--now", full_board["now"], columns=100, env=_env())
    assert run.code == 1
    assert "\x1b[31mKD001,KD002\x1b[0m" in run.tty  # a repairable finding's codes, in red
    lines, rows = _rows(run.tty)
    assert max(len(line) for line in lines if " running, " not in line) <= 100
    assert {r["TASK"] for r in rows} == set(_whole(full_board))


@pytest.mark.parametrize(
    ("terminal", "env", "coloured"),
    [
        (True, {}, True),
        (True, {"NO_COLOR": "1"}, False),
        (True, {"NO_COLOR": ""}, True),
        (True, {"TERM": "dumb"}, False),
        (False, {}, False),
        (False, {"FORCE_COLOR": "1"}, True),
        (False, {"FORCE_COLOR": ""}, False),
        (True, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # the opt-out wins
    ],
)
def test_colour_follows_the_terminal_and_the_environment(
    tmp_path: Path, terminal: bool, env: dict[str, str], coloured: bool
) -> None:
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.direct_write(conn, "a", now)
    conn.close()
    run = run_tty("repair", path, "--apply", "--yes", stdout=terminal, env=_env(**env))
    assert run.code == 0, run.tty
    out = run.tty if terminal else run.stdout
    assert ("\x1b[" in out) is coloured, out
    assert ANSI.sub("", out).splitlines()[-2:] == [
        "repaired a: demote to ready",
        "repaired 1, skipped 0",
    ]


def test_json_is_never_coloured(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.direct_write(conn, "a", int(time.time()))
    conn.close()
    run = run_tty("audit", path, "--format", "json", env=_env(FORCE_COLOR="1"))
    assert "\x1b[" not in run.tty


@pytest.mark.parametrize("width", [100, 120, 160])
def test_wrapping_never_splits_a_word_or_a_parenthesis(
    full_board: dict[str, Any], width: int
) -> None:
    """No cell line ends inside "(grace 120 s)", a quoted host or a word, at any width."""
    args = ("audit", full_board["path"], "--now", full_board["now"])
    run = run_tty(*args, columns=width, env=_env())
    lines, rows = _rows(run.tty)
    table = lines[: lines.index(next(x for x in lines if x.startswith("guard: ")))]
    assert max(map(len, table)) <= width
    for line in table:
        assert line.count("(") == line.count(")"), line
        assert line.count("'") % 2 == 0, line
    expired = [r for r in rows if "claim expired" in r["WHY"]]
    assert expired and all("(grace 120 s)" in r["WHY"] for r in expired)
    whole = _whole(full_board)
    for row in rows:
        assert row["WHY"] == whole[row["TASK"]]["WHY"]  # joined at spaces: nothing was cut


def test_columns_give_way_before_a_word_is_cut(full_board: dict[str, Any]) -> None:
    """Where a long host name leaves no room, TITLE and ASSIGNEE go; the words stay whole."""
    args = ("audit", full_board["path"], "--now", full_board["now"])
    wide = run_tty(*args, columns=160, env=_env())
    assert ANSI.sub("", wide.tty).splitlines()[0].split() == list(COLUMNS)
    narrow = run_tty(*args, columns=100, env=_env())
    lines, rows = _rows(narrow.tty)
    assert lines[0].split() == ["TASK", "AGE", "CODES", "CAUSE", "WHY", "ACTION"]
    assert any("'worker-elsewhere.example'," in line for line in lines)
    _, doc = run_json("audit", full_board["path"], "--now", full_board["now"])
    dead = next(f for f in doc["findings"] if f["task_id"] == "dead")
    assert (dead["title"], dead["assignee"]) == ("task dead", None)


def test_a_task_that_is_not_running_is_shown_with_its_title(tmp_path: Path) -> None:
    """A dangling run's task is done, not running: its title and assignee are still shown."""
    path = tmp_path / "kanban.db"
    now = int(time.time())
    conn = boards.create(path)
    boards.dangling_run(conn, "finished", now)
    conn.execute("UPDATE tasks SET assignee = 'agent-7' WHERE id = 'finished'")
    conn.close()
    code, doc = run_json("audit", path)
    assert code == 1
    (finding,) = doc["findings"]
    assert finding["codes"] == ["KD005"]
    assert (finding["title"], finding["assignee"]) == ("task finished", "agent-7")
    text = run_cli("audit", path).stdout
    assert "task finished" in text and "agent-7" in text
