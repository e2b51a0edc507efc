"""guard: triggers that make the board refuse a write into running without a claim.

Every test runs the installed command on a real board built from the bundled
Hermes schema, then writes to it with plain SQL as any other program would.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from support import boards
from support.cli import run_cli, run_json
from support.tty import run_tty

V1 = ("kanban_audit_guard_v1_insert", "kanban_audit_guard_v1_update")
REFUSAL = "kanban-audit guard: only the claim path may set tasks.status to 'running'"
INSERT_RUNNING = "INSERT INTO tasks (id, status, created_at) VALUES ('new', 'running', 1)"


def schema_rows(path: Path) -> list[tuple[Any, ...]]:
    return boards.rows(path, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")


def triggers(path: Path) -> dict[str, str]:
    rows = boards.rows(path, "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
    return dict(rows)


def write(path: Path, sql: str, *params: Any) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def refused(path: Path, sql: str, *params: Any) -> str:
    """Run a write that the guard must refuse; return SQLite's message."""
    with pytest.raises(sqlite3.IntegrityError) as caught:
        write(path, sql, *params)
    return str(caught.value)


def install(path: Path, *args: Any) -> subprocess.CompletedProcess[str]:
    proc = run_cli("guard", "install", path, "--yes", *args)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr
    return proc


@pytest.fixture
def board(tmp_path: Path) -> Path:
    """A board with a ready, a todo, a claimed, an orphaned and a done task."""
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.idle(conn, "ready", now)
    boards.idle(conn, "todo", now, status="todo")
    boards.remote_worker(conn, "claimed", now)
    boards.direct_write(conn, "orphan", now)
    boards.finished(conn, "done", now)
    conn.close()
    return path


@pytest.fixture
def guarded(board: Path) -> Path:
    install(board)
    return board


def test_install_creates_the_two_triggers(board: Path) -> None:
    proc = install(board)
    assert proc.stdout == f"{board}: guard installed: created {', '.join(V1)}\n"
    assert triggers(board) == {name: "tasks" for name in V1}


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("UPDATE tasks SET status = 'running' WHERE id = ?", ("ready",)),
        ("UPDATE tasks SET status = ? WHERE id = ?", ("running", "todo")),
        # The dashboard's write: the claim columns kept as they were (empty).
        (
            "UPDATE tasks SET status = ?, claim_lock = CASE WHEN ? = 'running' THEN claim_lock"
            " ELSE NULL END, claim_expires = CASE WHEN ? = 'running' THEN claim_expires"
            " ELSE NULL END WHERE id = ?",
            ("running", "running", "running", "ready"),
        ),
        ("UPDATE tasks SET status = 'running', claim_lock = 'h:1' WHERE id = 'ready'", ()),
        ("UPDATE tasks SET status = 'running', claim_expires = 99 WHERE id = 'ready'", ()),
        (
            "UPDATE tasks SET status = 'running', claim_lock = '', claim_expires = 9"
            " WHERE id = 'ready'",
            (),
        ),
        ("UPDATE tasks SET status = 'running' WHERE status = 'done'", ()),
        ("INSERT INTO tasks (id, status, created_at) VALUES ('new', 'running', 1)", ()),
        (
            "INSERT INTO tasks (id, status, created_at, claim_lock)"
            " VALUES ('n', 'running', 1, 'h:1')",
            (),
        ),
        ("REPLACE INTO tasks (id, status, created_at) VALUES ('ready', 'running', 1)", ()),
        (
            "INSERT INTO tasks (id, status, created_at) VALUES ('todo', 'todo', 1)"
            " ON CONFLICT (id) DO UPDATE SET status = 'running'",
            (),
        ),
    ],
    ids=[
        "literal",
        "placeholder",
        "dashboard",
        "lock only",
        "expiry only",
        "empty lock",
        "from done",
        "insert",
        "insert lock only",
        "replace",
        "upsert",
    ],
)
def test_writes_into_running_without_a_claim_are_refused(
    guarded: Path, sql: str, params: tuple[Any, ...]
) -> None:
    before = boards.board_hash(guarded)
    assert REFUSAL in refused(guarded, sql, *params)
    assert boards.board_hash(guarded) == before


@pytest.mark.parametrize(
    "sql",
    [
        # The claim path: status, lock and expiry in one statement.
        "UPDATE tasks SET status = 'running', claim_lock = 'h:1', claim_expires = 9"
        " WHERE id = 'ready' AND status = 'ready' AND claim_lock IS NULL",
        "INSERT INTO tasks (id, status, created_at, claim_lock, claim_expires)"
        " VALUES ('n', 'running', 1, 'h:1', 9)",
        # Writes to a row that is already running, without a claim (Hermes' back-fill,
        # heartbeat and worker-PID setter), and a no-op status write on it.
        "UPDATE tasks SET current_run_id = 7 WHERE id = 'orphan'",
        "UPDATE tasks SET last_heartbeat_at = 9, worker_pid = 4 WHERE id = 'orphan'",
        "UPDATE tasks SET status = 'running' WHERE id = 'orphan'",
        # Leaving running, and every other state.
        "UPDATE tasks SET status = 'ready', claim_lock = NULL, claim_expires = NULL"
        " WHERE id = 'claimed'",
        "UPDATE tasks SET status = 'ready' WHERE id = 'orphan'",
        "UPDATE tasks SET status = 'todo' WHERE id = 'ready'",
        "UPDATE tasks SET status = 'blocked' WHERE status = 'running'",
        "UPDATE tasks SET status = 'done' WHERE id = 'todo'",
        "UPDATE tasks SET status = 'review' WHERE id = 'ready'",
        "INSERT INTO tasks (id, status, created_at) VALUES ('n', 'ready', 1)",
        "UPDATE tasks SET claim_lock = NULL WHERE id = 'claimed'",
        "DELETE FROM tasks WHERE id = 'orphan'",
    ],
)
def test_other_writes_pass(guarded: Path, sql: str) -> None:
    conn = sqlite3.connect(guarded, isolation_level=None)
    try:
        assert conn.execute(sql).rowcount >= 1
    finally:
        conn.close()


def test_a_second_install_changes_nothing(guarded: Path) -> None:
    schema, data = schema_rows(guarded), boards.board_hash(guarded)
    version = boards.rows(guarded, "PRAGMA schema_version")
    proc = install(guarded)
    assert proc.stdout == f"{guarded}: guard already current; nothing changed\n"
    code, doc = run_json("guard", "install", guarded, "--yes")
    assert (code, doc["action"], doc["created"], doc["dropped"]) == (0, "unchanged", [], [])
    assert (doc["installed"], doc["current"]) == (True, True)
    assert schema_rows(guarded) == schema
    assert boards.rows(guarded, "PRAGMA schema_version") == version
    assert boards.board_hash(guarded) == data


def _drop_update(path: Path) -> None:
    write(path, f"DROP TRIGGER {V1[1]}")


def _alter_update(path: Path) -> None:
    """The same name, a weaker body: a claim lock alone would do."""
    sql = boards.rows(path, "SELECT sql FROM sqlite_master WHERE name = ?", V1[1])[0][0]
    write(path, f"DROP TRIGGER {V1[1]}")
    write(path, sql.replace(' OR NEW."claim_expires" IS NULL', ""))


def _older_version(path: Path) -> None:
    write(
        path,
        "CREATE TRIGGER kanban_audit_guard_v0_update BEFORE UPDATE ON tasks"
        " WHEN NEW.status = 'running' BEGIN SELECT RAISE(ABORT, 'old'); END",
    )


def _only_older_version(path: Path) -> None:
    for name in V1:
        write(path, f"DROP TRIGGER {name}")
    _older_version(path)


def _renamed_table(path: Path) -> None:
    """Halfway through a rebuild of the tasks table: the old one renamed, the new one empty."""
    write(path, "ALTER TABLE tasks RENAME TO tasks_legacy")
    write(path, boards.SCHEMA.read_text().split(";")[0])


def _rebuilt_table(path: Path) -> None:
    """A finished rebuild: create new, copy, drop old, rename new (SQLite's own recipe)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE tasks_new AS SELECT * FROM tasks")
        conn.execute("DROP TABLE tasks")
        conn.execute("ALTER TABLE tasks_new RENAME TO tasks")
        conn.execute("COMMIT")
    finally:
        conn.close()


STATES = {
    "current": (lambda path: None, 0, "current", []),
    "partial": (_drop_update, 1, "partial", [f"{V1[1]}: missing"]),
    "altered": (
        _alter_update,
        1,
        "outdated",
        [f"{V1[1]}: its SQL differs from what install writes"],
    ),
    "older version beside": (
        _older_version,
        1,
        "outdated",
        ["kanban_audit_guard_v0_update: not part of guard v1"],
    ),
    "older version only": (
        _only_older_version,
        1,
        "outdated",
        [
            f"{V1[0]}: missing",
            f"{V1[1]}: missing",
            "kanban_audit_guard_v0_update: not part of guard v1",
        ],
    ),
    "tasks renamed": (
        _renamed_table,
        1,
        "outdated",
        [f"{name}: on table 'tasks_legacy', not 'tasks'" for name in V1],
    ),
    "tasks rebuilt": (_rebuilt_table, 1, "missing", [f"{name}: missing" for name in V1]),
}


@pytest.mark.parametrize("case", list(STATES))
def test_status_tells_current_from_partial_outdated_and_missing(guarded: Path, case: str) -> None:
    change, code, state, differences = STATES[case]
    change(guarded)
    got, doc = run_json("guard", "status", guarded)
    assert got == code
    assert (doc["state"], doc["differences"]) == (state, differences)
    assert doc["current"] is (state == "current")
    assert doc["installed"] is (state != "missing")
    proc = run_cli("guard", "status", guarded)
    assert (proc.returncode, proc.stderr) == (code, "")
    assert proc.stdout.startswith(f"{guarded}: guard {state}")
    _, audit = run_json("audit", guarded)
    assert audit["guard"] == {key: doc[key] for key in audit["guard"]}


@pytest.mark.parametrize("case", [c for c in STATES if c != "current"])
def test_install_brings_any_state_back_to_current(guarded: Path, case: str) -> None:
    STATES[case][0](guarded)
    code, doc = run_json("guard", "install", guarded, "--yes")
    assert code == 0
    assert doc["action"] == ("installed" if case == "tasks rebuilt" else "updated")
    assert doc["created"] == list(V1)
    assert doc["current"] is True
    assert run_cli("guard", "status", guarded).returncode == 0
    assert REFUSAL in refused(guarded, INSERT_RUNNING)


def test_status_of_a_board_without_the_guard(board: Path) -> None:
    proc = run_cli("guard", "status", board)
    assert (proc.returncode, proc.stderr) == (1, "")
    assert proc.stdout == f"{board}: guard missing (kanban-audit guard install adds it)\n"
    code, doc = run_json("guard", "status", board)
    assert (code, doc["installed"], doc["current"], doc["found"]) == (1, False, False, [])


def test_remove_drops_only_the_tools_own_triggers(guarded: Path) -> None:
    _older_version(guarded)
    mine = "CREATE TRIGGER audit_log AFTER UPDATE ON tasks BEGIN SELECT 1; END"
    write(guarded, mine)
    code, doc = run_json("guard", "remove", guarded, "--yes")
    assert code == 0
    assert doc["dropped"] == ["kanban_audit_guard_v0_update", *V1]
    assert (doc["action"], doc["installed"], doc["current"]) == ("removed", False, False)
    assert triggers(guarded) == {"audit_log": "tasks"}
    write(guarded, "UPDATE tasks SET status = 'running' WHERE id = 'ready'")
    assert boards.rows(guarded, "SELECT status FROM tasks WHERE id = 'ready'") == [("running",)]


def test_remove_is_idempotent(guarded: Path) -> None:
    assert run_cli("guard", "remove", guarded, "--yes").returncode == 0
    schema, data = schema_rows(guarded), boards.board_hash(guarded)
    proc = run_cli("guard", "remove", guarded)  # nothing to remove: nothing to confirm
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == f"{guarded}: guard not installed; nothing changed\n"
    assert (schema_rows(guarded), boards.board_hash(guarded)) == (schema, data)


def test_audit_reports_the_guard(board: Path) -> None:
    code, doc = run_json("audit", board)
    assert code == 1
    assert (doc["guard"]["installed"], doc["guard"]["current"]) == (False, False)
    assert "guard: missing (kanban-audit guard install adds it)" in run_cli("audit", board).stdout
    install(board)
    _, doc = run_json("audit", board)
    assert (doc["guard"]["installed"], doc["guard"]["current"]) == (True, True)
    lines = run_cli("audit", board).stdout.splitlines()
    assert lines[-3] == f"guard: current ({', '.join(V1)} on 'tasks')"


def test_a_rebuild_of_another_table_leaves_the_guard_working(guarded: Path) -> None:
    """Hermes rebuilds drifted tables; the trigger bodies name none of them."""
    conn = sqlite3.connect(guarded, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for table in ("task_runs", "task_events"):
            conn.execute(f"ALTER TABLE {table} RENAME TO {table}_legacy")
            conn.execute(f"CREATE TABLE {table} AS SELECT * FROM {table}_legacy")
            conn.execute(f"DROP TABLE {table}_legacy")
        conn.execute("COMMIT")
    finally:
        conn.close()
    assert run_cli("guard", "status", guarded).returncode == 0
    assert REFUSAL in refused(guarded, "UPDATE tasks SET status = 'running' WHERE id = 'ready'")
    write(guarded, "UPDATE tasks SET status = 'todo' WHERE id = 'ready'")


OTHER_PACK = """\
[tasks]
table = "cards"
id = "card_id"
status = "lane"
guarded = "in progress"
repair_to = "queued"
claim_lock = "lease_owner"
claim_expires = "lease_until"
"""

OTHER_SCHEMA = """\
CREATE TABLE cards (card_id INTEGER PRIMARY KEY, lane TEXT NOT NULL,
                    lease_owner TEXT, lease_until INTEGER, status TEXT);
INSERT INTO cards (card_id, lane, status) VALUES (1, 'queued', 'running');
"""


def test_a_pack_with_other_names(tmp_path: Path) -> None:
    pack = tmp_path / "cards.toml"
    pack.write_text(OTHER_PACK)
    path = tmp_path / "cards.db"
    boards.create(path, schema=OTHER_SCHEMA).close()
    assert run_cli("guard", "status", path, "--rules", pack).returncode == 1
    install(path, "--rules", pack)
    assert triggers(path) == {name: "cards" for name in V1}
    assert run_cli("guard", "status", path, "--rules", pack).returncode == 0
    # The Hermes pack's idea of the guard differs: other table, other SQL.
    assert run_cli("guard", "status", path).returncode == 2  # no table 'tasks'
    message = refused(path, "UPDATE cards SET lane = 'in progress' WHERE card_id = 1")
    assert "may set cards.lane to 'in progress'" in message
    write(path, "UPDATE cards SET status = 'running', lane = 'done' WHERE card_id = 1")
    write(
        path,
        "UPDATE cards SET lane = 'in progress', lease_owner = 'h:1', lease_until = 9"
        " WHERE card_id = 1",
    )


def test_install_asks_on_a_terminal(board: Path) -> None:
    for answer, code, expected in ((b"n\n", 2, {}), (b"y\n", 0, dict.fromkeys(V1, "tasks"))):
        run = run_tty("guard", "install", board, answers={b"[y/N]": answer})
        assert run.code == code
        assert f"Install the kanban-audit guard in {board}?" in run.tty
        assert triggers(board) == expected


def test_remove_asks_as_install_does(guarded: Path) -> None:
    """Dropping the protection needs a "yes" too: --yes, or typed at a terminal."""
    schema = schema_rows(guarded)
    proc = run_cli("guard", "remove", guarded)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        "kanban-audit: error: refusing to write: no terminal to confirm on; pass --yes\n"
    )
    run = run_tty("guard", "remove", guarded, answers={b"[y/N]": b"n\n"})
    assert run.code == 2
    assert f"Remove the kanban-audit guard from {guarded}?" in run.tty
    assert "kanban-audit: aborted, nothing written" in run.tty
    assert schema_rows(guarded) == schema
    run = run_tty("guard", "remove", guarded, answers={b"[y/N]": b"y\n"})
    assert run.code == 0
    assert triggers(guarded) == {}


# Bad invocations ----------------------------------------------------------------
# Boards that are no boards at all (missing, a directory, not SQLite, corrupt...)
# are in test_audit_errors.py, for every command; these are the guard's own.
# The boards here are not in WAL mode: opening a WAL file read-only makes SQLite
# create its -wal and -shm files, which are SQLite's, not a change to the board.


def _no_claim_columns(folder: Path) -> list[Any]:
    schema = "CREATE TABLE tasks (id TEXT PRIMARY KEY, status TEXT, claim_lock TEXT);"
    boards.create(folder / "old.db", schema=schema, wal=False).close()
    return [folder / "old.db"]


def _pack_without_claims(folder: Path) -> list[Any]:
    (folder / "bare.toml").write_text(
        '[tasks]\ntable = "tasks"\nstatus = "status"\nguarded = "running"\nrepair_to = "ready"\n'
    )
    boards.create(folder / "kanban.db", wal=False).close()
    return [folder / "kanban.db", "--rules", folder / "bare.toml"]


def _no_pack(folder: Path) -> list[Any]:
    boards.create(folder / "kanban.db", wal=False).close()
    return [folder / "kanban.db", "--rules", folder / "missing.toml"]


def _board_option(folder: Path) -> list[Any]:
    return ["--board", "../escape"]


def _clock_option(folder: Path) -> list[Any]:
    boards.create(folder / "kanban.db", wal=False).close()
    return [folder / "kanban.db", "--now", "5"]


def _bad_format(folder: Path) -> list[Any]:
    boards.create(folder / "kanban.db", wal=False).close()
    return [folder / "kanban.db", "--format", "xml"]


BAD_INPUT = {
    "no claim columns": (_no_claim_columns, "has no column 'claim_expires', which the guard"),
    "pack without claims": (_pack_without_claims, "names no [tasks] claim_lock column"),
    "no pack": (_no_pack, "rule pack not found"),
    "bad board name": (_board_option, "invalid board name"),
}
# Rejected by the option parser, with its usage lines.
BAD_OPTIONS = {
    "clock option": (_clock_option, "No such option"),  # click words it by version
    "bad format": (_bad_format, "Invalid value for '--format'"),
}
# remove drops triggers by name: it needs no claim columns.
CASES = [
    (command, case)
    for command in ("install", "status", "remove")
    for case in [*BAD_INPUT, *BAD_OPTIONS]
    if not (command == "remove" and case in {"no claim columns", "pack without claims"})
]


@pytest.mark.parametrize(("command", "case"), CASES)
def test_bad_input_exits_2(command: str, case: str, tmp_path: Path) -> None:
    make, message = {**BAD_INPUT, **BAD_OPTIONS}[case]
    args = make(tmp_path)
    before = boards.listing(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_KANBAN")}
    env["HERMES_KANBAN_HOME"] = str(tmp_path)
    yes = ["--yes"] if command != "status" else []
    proc = run_cli("guard", command, *args, *yes, env=env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    if case in BAD_INPUT:
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("kanban-audit: error: ")
    assert boards.listing(tmp_path) == before


def test_install_without_a_terminal_or_yes_writes_nothing(board: Path) -> None:
    """Nothing written: the board and its WAL (the -shm index is SQLite's scratch memory)."""

    def files() -> dict[str, tuple[int, int]]:
        return {k: v for k, v in boards.listing(board.parent).items() if not k.endswith("-shm")}

    schema, before = schema_rows(board), files()
    proc = run_cli("guard", "install", board)
    assert proc.returncode == 2
    assert proc.stderr == (
        "kanban-audit: error: refusing to write: no terminal to confirm on; pass --yes\n"
    )
    assert (schema_rows(board), files()) == (schema, before)


@pytest.mark.parametrize("command", [["install", "--yes"], ["remove", "--yes"]])
def test_a_locked_board_is_an_error(board: Path, command: list[str]) -> None:
    if command == ["remove", "--yes"]:
        install(board)
    schema = schema_rows(board)
    holder = sqlite3.connect(board, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        proc = run_cli("guard", *command, board, "--busy-timeout", "200")
    finally:
        holder.close()
    assert proc.returncode == 2
    assert proc.stderr == (
        f"kanban-audit: error: board is locked: {board} (gave up after busy timeout 200 ms)\n"
    )
    assert schema_rows(board) == schema
