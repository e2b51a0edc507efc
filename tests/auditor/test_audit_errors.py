"""Bad inputs end with exit 2, one line on stderr, and no file created or changed."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import boards
from support.cli import run_cli, run_json


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


def _hard_link(folder: Path) -> Path:
    """A second name for a board's file: SQLite keeps a WAL per name, so a repair through
    it commits into a WAL its writers never read, and a later open through it replays
    that WAL over their newer commits."""
    path = folder / "kanban.db"
    conn = boards.create(path)
    boards.direct_write(conn, "t1", int(time.time()))
    conn.close()
    link = folder / "second-name.db"
    os.link(path, link)
    return link


def _linked_sidecar(folder: Path) -> Path:
    """A board whose `-shm` is a symlink (to a file of someone else's): SQLite refuses to
    open it only after it has created the missing `-wal`."""
    path = folder / "kanban.db"
    conn = boards.create(path)
    boards.direct_write(conn, "t1", int(time.time()))
    conn.close()
    (folder / "elsewhere").write_text("not an index\n")
    (folder / "kanban.db-shm").symlink_to(folder / "elsewhere")
    return path


BAD = {
    "missing": (_missing, "board not found"),
    "directory": (_directory, "no board in the folder"),
    "text file": (_text_file, "not a SQLite database"),
    "empty file": (_empty_file, "not a SQLite database"),
    "no tasks table": (_no_tasks_table, "not a kanban board"),
    "corrupt": (_corrupt, "board is corrupt"),
    "hard link": (_hard_link, "board file has 2 names (hard links)"),
    "linked sidecar": (_linked_sidecar, "board's -shm is not a regular file"),
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


# Every bad invocation --------------------------------------------------------


def _tree(folder: Path) -> dict[str, str]:
    """Every path below `folder` with a hash of what it is: a file's bytes, a link's target."""
    out = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            out[key] = f"link {os.readlink(path)}"
        elif path.is_file():
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[key] = f"{stat.S_IFMT(path.lstat().st_mode):o}"
    return out


def _orphan_board(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "kanban.db"
    conn = boards.create(path)
    boards.direct_write(conn, "t1", int(time.time()))
    conn.close()
    return path


def _pack(folder: Path, text: str) -> Path:
    path = folder / "pack.toml"
    path.write_text(text)
    return path


HERMES = (Path(boards.__file__).parents[2] / "kanban_audit" / "packs" / "hermes.toml").read_text()

# name -> (setup(folder, board) -> (args, env), message); `board` holds one orphan.
Setup = Callable[[Path, Path], tuple[list[Any], dict[str, str]]]


def _db(make: Callable[[Path], Path]) -> Setup:
    return lambda folder, board: ([make(folder)], {})


def _opts(*args: Any) -> Setup:
    return lambda folder, board: ([board, *args], {})


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "fifo.db")
    return folder / "fifo.db"


def _loop(folder: Path) -> Path:
    (folder / "a.db").symlink_to(folder / "b.db")
    (folder / "b.db").symlink_to(folder / "a.db")
    return folder / "a.db"


def _dangling(folder: Path) -> Path:
    (folder / "gone.db").symlink_to(folder / "nothing-here.db")
    return folder / "gone.db"


def _under_a_file(folder: Path) -> Path:
    (folder / "plain").write_text("x")
    return folder / "plain" / "kanban.db"


def _unreadable(folder: Path) -> Path:
    path = _orphan_board(folder / "locked")
    path.chmod(0)
    return path


def _current_not_utf8(folder: Path, board: Path) -> tuple[list[Any], dict[str, str]]:
    (folder / "kanban").mkdir()
    (folder / "kanban" / "current").write_bytes(b"\xff\xfe ops")
    return [], {"HERMES_KANBAN_HOME": str(folder)}


def _rules(text: str) -> Setup:
    return lambda folder, board: ([board, "--rules", _pack(folder, text)], {})


def _backup_dir_file(folder: Path, board: Path) -> tuple[list[Any], dict[str, str]]:
    (folder / "afile").write_text("x")
    return [board, "--backup-dir", folder / "afile"], {}


def _backup_dir_under_file(folder: Path, board: Path) -> tuple[list[Any], dict[str, str]]:
    (folder / "afile").write_text("x")
    return [board, "--backup-dir", folder / "afile" / "sub"], {}


def _backup_dir_unwritable(folder: Path, board: Path) -> tuple[list[Any], dict[str, str]]:
    (folder / "ro").mkdir(mode=0o500)
    return [board, "--backup-dir", folder / "ro" / "new"], {}


def _invalid(option: str, *values: str) -> dict[str, tuple[Setup, str]]:
    """One case a value that the option's type refuses."""
    return {f"{option} {v}": (_opts(option, v), f"Invalid value for '{option}'") for v in values}


ROOT = os.geteuid() == 0  # permissions do not stop root: those cases cannot be built
BAD_INVOCATIONS: dict[str, tuple[Setup, str]] = {
    "missing file": (_db(_missing), "board not found"),
    "directory": (_db(_directory), "no board in the folder"),
    "text file": (_db(_text_file), "not a SQLite database"),
    "empty file": (_db(_empty_file), "not a SQLite database"),
    "not a board": (_db(_no_tasks_table), "not a kanban board"),
    "corrupt": (_db(_corrupt), "board is corrupt"),
    "fifo": (_db(_fifo), "not a regular file"),
    "device": (lambda folder, board: (["/dev/null"], {}), "not a regular file"),
    "symlink loop": (_db(_loop), "cannot read board"),
    "dangling symlink": (_db(_dangling), "board not found"),
    "under a file": (_db(_under_a_file), "cannot read board"),
    "empty path": (lambda folder, board: ([""], {}), "board path is empty"),
    **({} if ROOT else {"unreadable": (_db(_unreadable), "cannot read board")}),
    "two boards": (_opts("other.db"), "unexpected extra argument"),
    "unknown option": (_opts("--bogus"), "No such option"),  # click words it by version
    "board slug escapes": (lambda folder, board: (["--board", "../x"], {}), "invalid board name"),
    "path and board": (_opts("--board", "ops"), "two boards named"),
    "board slug missing": (
        lambda folder, board: (["--board", "ops"], {"HERMES_KANBAN_HOME": str(folder)}),
        "board not found",
    ),
    "current file not UTF-8": (_current_not_utf8, "invalid board name"),
    "rules missing": (_opts("--rules", "missing.toml"), "rule pack not found"),
    "rules directory": (_opts("--rules", "."), "rule pack is a directory"),
    "rules not TOML": (_rules("this is = = not toml"), "not valid TOML"),
    "rules without tasks": (_rules("[pack]\nname = 'x'\n"), "missing section [tasks]"),
    "rules section not a table": (_rules("tasks = 5\n"), "[tasks]: expected a table"),
    "rules wrong type": (_rules(HERMES.replace('guarded = "running"', "guarded = 7")), "expected"),
    "rules bad busy timeout": (
        _rules(HERMES.replace("busy_timeout_ms = 120000", "busy_timeout_ms = -1")),
        "busy_timeout_ms -1 is out of range",
    ),
    "rules empty table name": (
        _rules(HERMES.replace('table = "tasks"', 'table = ""')),
        "[tasks].table: must not be empty",
    ),
    **_invalid("--grace", "-1", "nan", "inf", "1e400", "1e12", "soon"),
    **_invalid("--now", "nan", "-inf", "-5", "1e20", "today"),
    **_invalid("--busy-timeout", "-1", "1.5", str(2**63), "later"),
    "format": (_opts("--format", "xml"), "Invalid value for '--format'"),
    "format missing value": (_opts("--format"), "Option '--format' requires an argument"),
}
REPAIR_ONLY: dict[str, tuple[Setup, str]] = {
    "backup dir is a file": (_backup_dir_file, "is a file"),
    "backup dir under a file": (_backup_dir_under_file, "is not a directory"),
    **({} if ROOT else {"backup dir unwritable": (_backup_dir_unwritable, "is not writable")}),
    "clock before the evidence": (_opts("--now", "1000"), "a repair would record history"),
}
INVOCATIONS = [
    pytest.param(command, name, setup, message, id=f"{command[0]}: {name}")
    for command in (["audit"], ["repair", "--apply", "--yes"])
    for name, (setup, message) in (
        BAD_INVOCATIONS.items()
        if command == ["audit"]
        else {**BAD_INVOCATIONS, **REPAIR_ONLY}.items()
    )
]


@pytest.mark.parametrize(("command", "name", "setup", "message"), INVOCATIONS)
def test_every_bad_invocation_is_one_line_and_changes_nothing(
    command: list[str], name: str, setup: Setup, message: str, tmp_path: Path
) -> None:
    """Exit 2, exactly one line on stderr, no traceback, not one file created or changed."""
    board = _orphan_board(tmp_path / "board")
    args, env = setup(tmp_path, board)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_KANBAN")}
    before = _tree(tmp_path)
    proc = run_cli(*command, *args, env={**clean, **env}, cwd=tmp_path, timeout=60)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("kanban-audit: error: "), (
        proc.stderr
    )
    assert message in proc.stderr
    assert _tree(tmp_path) == before


def test_an_audit_leaves_an_idle_board_as_it_found_it(full_board: dict[str, Any]) -> None:
    """No -wal or -shm left behind beside a WAL board nobody else has open."""
    folder = full_board["path"].parent
    before = _tree(folder)
    assert run_cli("audit", full_board["path"]).returncode == 1
    assert run_cli("repair", full_board["path"]).returncode == 1
    assert _tree(folder) == before
