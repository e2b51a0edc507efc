"""Bad inputs end with exit 2, one line on stderr, and no file created or changed."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import boards
import pytest
from conftest import run_cli, run_json


def _missing(folder: Path) -> Path:
    return folder / "nowhere" / "kanban.db"


def _directory(folder: Path) -> Path:
    (folder / "adir").mkdir()
    return folder / "adir"


def _text_file(folder: Path) -> Path:
    path = folder / "notes.db"
    path.write_text("this is not a database\n" * 100)
    return path


def _empty_file(folder: Path) -> Path:
    path = folder / "empty.db"
    path.touch()
    return path


def _no_tasks_table(folder: Path) -> Path:
    path = folder / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    conn.close()
    return path


def _corrupt(folder: Path) -> Path:
    """A real board whose pages after the schema page were overwritten."""
    path = folder / "corrupt.db"
    conn = boards.create(path, wal=False)
    now = int(time.time())
    conn.execute("BEGIN")
    for i in range(500):
        boards.direct_write(conn, f"t{i}", now)
    conn.execute("COMMIT")
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[page:] = os.urandom(len(data) - page)
    path.write_bytes(bytes(data))
    return path


BAD = {
    "missing": (_missing, "board not found"),
    "directory": (_directory, "board path is a directory"),
    "text file": (_text_file, "not a SQLite database"),
    "empty file": (_empty_file, "not a SQLite database"),
    "no tasks table": (_no_tasks_table, "not a kanban board"),
    "corrupt": (_corrupt, "board is corrupt"),
}


@pytest.mark.parametrize(
    "command",
    [
        ["audit"],
        ["repair", "--apply", "--yes"],
        ["guard", "install", "--yes"],
        ["guard", "status"],
        ["guard", "remove"],
    ],
)
@pytest.mark.parametrize("case", list(BAD))
def test_bad_board_exits_2_with_one_line(case: str, command: list[str], tmp_path: Path) -> None:
    make, message = BAD[case]
    path = make(tmp_path)
    before = boards.listing(tmp_path)
    proc = run_cli(*command, path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert message in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert boards.listing(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "board not found"),
        (["--board", "ops"], "board not found"),
        (["--rules", "missing.toml"], "rule pack not found"),
        (["--board", "../escape"], "invalid board name"),
        (["--format", "xml"], "Invalid value for '--format'"),
        (["--grace", "-1"], "Invalid value for '--grace'"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    env = {**os.environ, "HERMES_KANBAN_HOME": str(tmp_path)}
    env.pop("HERMES_KANBAN_DB", None)
    proc = run_cli("audit", *args, env=env)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def _board_at(root: Path, relative: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    boards.create(path).close()
    return path


OPS = "kanban/boards/ops/kanban.db"


@pytest.mark.parametrize(
    ("where", "env", "args", "current"),
    [
        ("x/my.db", {"HERMES_KANBAN_DB": "x/my.db"}, [], None),
        ("kanban.db", {}, [], None),
        (OPS, {}, ["--board", "ops"], None),
        (OPS, {"HERMES_KANBAN_BOARD": "ops"}, [], None),
        (OPS, {}, [], "ops\n"),
        ("kanban.db", {}, ["--board", "default"], "ops\n"),
    ],
    ids=["env db", "default board", "--board", "env board", "current file", "--board wins"],
)
def test_board_location_rules(
    where: str, env: dict[str, str], args: list[str], current: str | None, tmp_path: Path
) -> None:
    """With no DB argument the board is found the way Hermes finds it (MISSION.md)."""
    board = _board_at(tmp_path, where)
    if current is not None:
        (tmp_path / "kanban").mkdir(exist_ok=True)
        (tmp_path / "kanban" / "current").write_text(current)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_KANBAN")}
    env = {k: str(tmp_path / v) if k.endswith("_DB") else v for k, v in env.items()}
    code, doc = run_json("audit", *args, env={**clean, "HERMES_KANBAN_HOME": str(tmp_path), **env})
    assert code == 0
    assert Path(doc["db"]) == board
