"""A read-only audit by another user leaves the board's files as they were.

The board belongs to one user, who runs Hermes; a second user may read it but
not write it, and may write in its folder (a shared folder, like /tmp). SQLite
would create the board's missing `-wal` and `-shm` as that second user and
leave them behind, and Hermes would then fail on its own board with "attempt
to write a readonly database". Each user here is a real process: a child
forked from the test (which runs as root) that switches to an unprivileged
uid with os.setgid/os.setuid. The children run in this interpreter, already
loaded, because an interpreter may live where the second user cannot go
(root's home).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from support import hermes

from kanban_audit import cli

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="switching users needs root"
)

OWNER = 65533  # the board's owner: any unprivileged uid
READER = 65534  # nobody
VERSION = "0.19.0"


def _in_child(action: Callable[[], Any]) -> dict[str, Any]:
    """`action()` in a forked child: {"ok": its JSON result} or {"error": text}."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read)
        try:
            result: dict[str, Any] = {"ok": action()}
        except BaseException as exc:  # reported to the parent, whatever it is
            result = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write, json.dumps(result, default=str).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def _become(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _as_owner(release: Path, home: Path, work: Callable[[Any], Any]) -> Callable[[], Any]:
    """`work(kanban_db)` as the board's owner, with the release's own code."""

    def action() -> Any:
        os.environ.update(
            HOME=str(home),
            HERMES_HOME=str(home),
            HERMES_KANBAN_HOME=str(home),
            HERMES_KANBAN_DB=str(home / "kanban.db"),
        )
        sys.path.insert(0, str(release))
        from hermes_cli import kanban_db

        # Once on a scratch board as root, so every module it needs is loaded.
        _create("warm-up")(kanban_db, Path(tempfile.mkdtemp(dir=home.parent)) / "kanban.db")
        _become(OWNER)
        return work(kanban_db)

    return action


def _create(title: str) -> Callable[..., str]:
    """Hermes creating a task (on its configured board unless given one)."""

    def work(kanban_db: Any, db: Path | None = None) -> str:
        conn = kanban_db.connect(db)
        try:
            return kanban_db.create_task(conn, title=title)
        finally:
            conn.close()

    return work


def _hermes_writes(release: Path, home: Path, title: str) -> Callable[[], str]:
    """The board's owner creating a task."""
    return _as_owner(release, home, _create(title))


def _command(*args: str) -> dict[str, Any]:
    """The command line, in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    with redirect_stdout(out), redirect_stderr(err):
        try:
            cli.main(list(args))
        except SystemExit as done:
            code = done.code
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def _reader_args(db: Path, *args: str) -> list[str]:
    """A command line on `db` with the rule pack kept beside the board's folder."""
    return [*args, str(db), "--rules", str(db.parent.parent / "hermes.toml")]


def _as_reader(db: Path, *args: str) -> Callable[[], dict[str, Any]]:
    def action() -> dict[str, Any]:
        _become(READER)
        return _command(*_reader_args(db, *args))

    return action


def _files(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Each file's owner, size and modification time."""
    return {
        p.name: (p.stat().st_uid, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()
    }


def _readable_release(folder: Path) -> Path:
    """The release's board code where both users can read it (its cache is root's)."""
    skip = shutil.ignore_patterns("*.data", "*.dist-info", "__pycache__")
    shutil.copytree(hermes.unpacked(VERSION), folder, ignore=skip)
    folder.chmod(0o755)  # the cache's folder is made private (mkdtemp)
    return folder


def _owned_board(shared: Path, command: list[str]) -> tuple[Path, Path]:
    """The release and the board Hermes made as its owner, in a folder anyone may write
    in (as /tmp); `command` has run once here, so every module it needs is loaded."""
    release = _readable_release(shared / "release")
    home = shared / "home"
    home.mkdir()
    os.chown(home, OWNER, OWNER)
    home.chmod(0o1777)
    assert "ok" in _in_child(_hermes_writes(release, home, "before the audit"))
    db = home / "kanban.db"
    assert (db.stat().st_uid, db.stat().st_mode & 0o777) == (OWNER, 0o644)
    # The bundled pack where the reader can read it (an installed package may not be).
    pack = resources.files("kanban_audit") / "packs" / "hermes.toml"
    (shared / "hermes.toml").write_text(pack.read_text(encoding="utf-8"))
    warm = shared / "warm"
    warm.mkdir()
    shutil.copy(db, warm / "kanban.db")
    _command(*_reader_args(warm / "kanban.db", *command, "--format", "json"))
    return release, db


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder both users can reach (pytest's own tmp folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="kanban-audit-users-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("command", [["audit"], ["repair"], ["guard", "status"]])
def test_a_reader_who_may_not_write_leaves_the_board_to_its_owner(
    shared: Path, command: list[str]
) -> None:
    """The reader audits the idle board (no -wal) from its shared folder: it gets its
    report, no file is created or changed, and Hermes, as the owner, writes on."""
    release, db = _owned_board(shared, command)
    home = db.parent

    before = _files(home)
    done = _in_child(_as_reader(db, *command, "--format", "json"))
    assert "ok" in done, done
    assert done["ok"]["stderr"] == "" and done["ok"]["code"] in (0, 1), done
    assert json.loads(done["ok"]["stdout"])["db"] == str(db)
    assert _files(home) == before

    assert "ok" in _in_child(_hermes_writes(release, home, "after the audit")), "owner locked out"


def test_a_wal_without_its_index_is_refused_to_a_reader(shared: Path) -> None:
    """A `-wal` whose `-shm` is missing: only the owner may recreate the index, so the
    reader gets one line, exit 2, and nothing is created."""
    _, db = _owned_board(shared, ["audit"])
    wal = db.with_name(db.name + "-wal")
    wal.touch()
    os.chown(wal, OWNER, OWNER)
    before = _files(db.parent)
    done = _in_child(_as_reader(db, "audit"))
    assert done["ok"]["code"] == 2, done
    assert done["ok"]["stderr"].startswith("kanban-audit: error: cannot read board ")
    assert "-shm file is missing" in done["ok"]["stderr"]
    assert done["ok"]["stderr"].count("\n") == 1
    assert _files(db.parent) == before


def test_a_write_during_a_lockless_read_is_reported(shared: Path) -> None:
    """The reader's lockless read of an idle board meets a write: the read is refused
    (exit 2, one line) rather than reported from a file that changed under it."""
    _, db = _owned_board(shared, ["audit"])
    opened, wrote = os.pipe(), os.pipe()

    def read_while_written() -> str:
        from kanban_audit.auditor.board import BoardError, connect

        _become(READER)
        conn = connect(db, 1000)
        conn.execute("SELECT count(*) FROM tasks").fetchone()
        os.write(opened[1], b"x")
        os.read(wrote[0], 1)
        try:
            conn.close()
        except BoardError as exc:
            return str(exc)
        return "closed without a word"

    def owner_writes() -> None:
        os.read(opened[0], 1)
        conn = sqlite3.connect(db, isolation_level=None)  # root, for the owner
        conn.execute("UPDATE tasks SET title = title || '!'")
        conn.close()
        os.write(wrote[1], b"x")

    writer = threading.Thread(target=owner_writes)
    writer.start()
    done = _in_child(read_while_written)
    writer.join()
    assert done == {
        "ok": f"board changed while it was read without a lock: {db}; run again, or as its owner"
    }, done


def test_a_reader_shares_the_wal_of_a_board_in_use(shared: Path) -> None:
    """Hermes, as the owner, holds the board open with a transaction in its WAL while
    the reader audits: the read shares the WAL (nothing created), and Hermes writes on."""
    release, db = _owned_board(shared, ["audit"])
    opened, go_on = os.pipe(), os.pipe()

    def hold_open(kanban_db: Any) -> str:
        conn = kanban_db.connect()
        try:
            kanban_db.create_task(conn, title="in the wal")
            os.write(opened[1], b"x")
            os.read(go_on[0], 1)
            return kanban_db.create_task(conn, title="after the audit")
        finally:
            conn.close()

    owner: dict[str, Any] = {}
    hermes_thread = threading.Thread(
        target=lambda: owner.update(_in_child(_as_owner(release, db.parent, hold_open)))
    )
    hermes_thread.start()
    try:
        os.read(opened[0], 1)
        before = {name: uid for name, (uid, _, _) in _files(db.parent).items()}
        assert {"kanban.db-wal", "kanban.db-shm"} <= before.keys()
        done = _in_child(_as_reader(db, "audit", "--format", "json"))
        after = {name: uid for name, (uid, _, _) in _files(db.parent).items()}
    finally:
        os.write(go_on[1], b"x")
        hermes_thread.join()
    assert done["ok"]["code"] in (0, 1) and done["ok"]["stderr"] == "", done
    assert after == before
    assert "ok" in owner, owner
