"""Find a board, open it without ever creating or changing a file, read its schema.

Every way a board can be unusable (missing, a directory, not SQLite, not a
board, corrupt, locked past the busy timeout) becomes a `BoardError` with one
clear line, so the command can exit 2 without a traceback.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from kanban_audit.auditor import wal
from kanban_audit.errors import KanbanAuditError
from kanban_audit.rulepack import RulePack

SQLITE_MAGIC = b"SQLite format 3\x00"
# Header bytes 18 and 19 (file format write and read versions): 2 means WAL mode.
WAL_VERSIONS = b"\x02\x02"
# How a reader opens a board whose WAL it cannot share: no lock, no file created.
UNSHARED = "ro&immutable=1"
# The files SQLite keeps beside a board, each only ever a regular file.
SIDECARS = ("-wal", "-shm", "-journal")
# A wait for the write lock longer than this is announced to a person watching.
LOCK_NOTICE_S = 1.0
# The longest single wait for the write lock inside SQLite, where Ctrl-C is not seen.
WAIT_SLICE_MS = 100


class BoardError(KanbanAuditError):
    """The board cannot be read or written; the message is one line for stderr."""


def ident(name: str) -> str:
    """Quote an identifier taken from a rule pack for use in SQL text."""
    return '"' + name.replace('"', '""') + '"'


def real_path(path: Path) -> Path:
    """The file behind `path`, every symlink resolved; `path` itself when no link is in it.

    SQLite keeps a board's `-wal` and `-shm` beside the file it opens, the
    link's target: judged by a link's name, a WAL in use looks absent and a
    reader's close deletes it. A path without links is kept as given, so
    messages name it as the user typed it.
    """
    real = Path(os.path.realpath(path))
    return path if real == Path(os.path.abspath(path)) else real


def _check_file(path: Path) -> bool:
    """Classify a path that cannot be a board before SQLite sees it (and creates it);
    return whether the board is in WAL mode (its header's read and write versions are 2).

    Only a regular file is opened: a FIFO would block the read forever, and a
    device or socket is never a board. Its `-wal`, `-shm` and `-journal`, where
    they exist, must be regular files too: SQLite refuses a symlinked one only
    after it created the missing `-wal`. A file with more than one name (hard
    links) is refused: SQLite keeps the `-wal`, `-shm` and `-journal` beside
    the name it opens, so through another name than its writers' a read
    misses their latest commits, a write takes a write lock they do not see
    and commits into a WAL they never read, and that WAL is later replayed
    over their newer commits.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise BoardError(f"board not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise BoardError(f"cannot read board {path}: {_reason(exc)}") from None
    if stat.S_ISDIR(st.st_mode):
        raise BoardError(f"board path is a directory: {path}")
    if not stat.S_ISREG(st.st_mode):
        raise BoardError(f"board path is not a regular file: {path}")
    if st.st_nlink > 1:
        raise BoardError(
            f"board file has {st.st_nlink} names (hard links): {path}; SQLite keeps a"
            " journal per name, so only a file with one name is opened (remove the other)"
        )
    for suffix in SIDECARS:
        try:
            side = os.lstat(f"{path}{suffix}")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BoardError(f"cannot read board {path}: {_reason(exc)}") from None
        if not stat.S_ISREG(side.st_mode):
            raise BoardError(
                f"board's {suffix} is not a regular file: {path}{suffix}; SQLite would"
                " refuse it, or write through it"
            )
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC) + 4)
    except OSError as exc:
        raise BoardError(f"cannot read board {path}: {_reason(exc)}") from None
    if head[: len(SQLITE_MAGIC)] != SQLITE_MAGIC:
        raise BoardError(f"not a SQLite database: {path}")
    return head[-2:] == WAL_VERSIONS


def _reason(exc: Exception) -> str:
    """An OSError's text without the errno prefix and the repeated path."""
    return getattr(exc, "strerror", None) or str(exc)


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(os.path.abspath(path))}?mode={mode}"


def _read_mode(path: Path, wal_mode: bool) -> str:
    """How a reader opens the board without leaving a file behind or locking anyone out.

    SQLite creates a WAL board's missing `-wal` and `-shm` when it opens it,
    owned by whoever opens it. `mode=rw` (with `PRAGMA query_only`) removes
    them again when the last connection closes; `mode=ro` leaves them behind,
    and files owned by another user lock the board's owner out ("attempt to
    write a readonly database"). So:

    - the sidecars exist, or the board is not in WAL mode: nothing is
      created; `mode=rw` if the file is writable, else `mode=ro`;
    - the board's owner (or root, for whom SQLite hands them to the owner),
      with write access to the file and its folder: `mode=rw`, which creates
      and removes them;
    - anyone else, with no `-wal` (no transaction outside the main file):
      `immutable=1`, which reads the file without locks or sidecars; the
      connection then checks at close that nothing changed the file meanwhile;
    - anyone else with a `-wal` but no `-shm`: refused, nothing created.
    """
    wal_file, shm_file = Path(f"{path}-wal"), Path(f"{path}-shm")
    writable = os.access(path, os.W_OK)
    if not wal_mode or (wal_file.exists() and shm_file.exists()):
        return "rw" if writable else "ro"
    owner = os.geteuid() in (0, path.stat().st_uid)
    if owner and writable and os.access(path.parent, os.W_OK | os.X_OK):
        return "rw"
    if not wal_file.exists():
        return UNSHARED
    raise BoardError(
        f"cannot read board {path}: its -shm file is missing and this user (uid"
        f" {os.geteuid()}) may not create it for the board's owner; run as the owner"
    )


def _identity(path: Path) -> tuple[int, ...] | None:
    """What changes when anything writes the file: inode, size, modification times."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def connect(path: Path, busy_timeout_ms: int, *, write: bool = False) -> BoardConnection:
    """Open an existing board for reading (`query_only`) or writing; never `rwc`.

    A reader never creates a file it would leave behind, whoever runs it and
    whatever the folder's mode (see `_read_mode`).
    Autocommit mode (isolation_level None): the repair manages its own
    BEGIN IMMEDIATE transactions, and a reader holds no transaction open.
    The connection never takes the WAL away from another process (see
    BoardConnection).

    Call it only while this process has no other connection to the board: the
    file check opens and closes the file, and closing any descriptor of a file
    drops every POSIX lock the process holds on it, so another process could
    take itself for the last connection and delete the WAL in use.
    """
    real = real_path(path)  # what SQLite opens, and where its -wal and -shm are
    wal_mode = _check_file(real)
    wal_in_use = Path(f"{real}-wal").exists()
    mode = "rw" if write else _read_mode(real, wal_mode)
    unshared = _identity(real) if mode == UNSHARED else None
    try:
        conn = sqlite3.connect(
            _uri(real, mode),
            uri=True,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
            factory=BoardConnection,
        )
    except sqlite3.Error as exc:
        raise BoardError(f"cannot open board {path}: {exc}") from None
    conn.board = real
    conn.unshared = unshared
    if wal_in_use:
        wal.keep_on_close(conn, real)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    if write:  # a repair reads a few rows per task
        conn.text_factory = tolerant_text
    else:
        conn.execute("PRAGMA query_only = 1")
    return conn


class BoardConnection(sqlite3.Connection):
    """A connection that leaves the WAL alone when it closes while others use it.

    SQLite's last connection to close checkpoints and deletes the WAL; it
    tells "last" by the locks on the board file. A process that opens and
    closes the board file with plain file calls drops its own locks (Hermes
    0.15.0 and later do, after every commit), so our close would delete a WAL
    that process still writes to, and corrupt the board. So a board whose WAL
    existed before we opened it, or whose shared-memory index another process
    holds when we close, is closed without a checkpoint (wal.py).

    A board read without locks (`immutable=1`, see `_read_mode`) is checked at
    close: if anything wrote the file meanwhile, what was read may mix two
    states, and closing raises a BoardError instead of letting it stand.
    """

    board: Path | None = None
    unshared: tuple[int, ...] | None = None

    def close(self) -> None:
        if self.board is None:
            super().close()
            return
        with wal.probe(self.board) as attached:
            if attached():
                wal.keep_on_close(self, self.board)
            super().close()
        if self.unshared is not None and _identity(self.board) != self.unshared:
            raise BoardError(
                f"board changed while it was read without a lock: {self.board};"
                " run again, or as its owner"
            )


def tolerant_text(raw: bytes) -> str | bytes:
    """A TEXT value as a str, or as its bytes when it is not UTF-8.

    SQLite stores whatever a writer gives it, in any encoding; the default
    decoder would stop the whole read at such a value. As bytes it is an odd
    value like a BLOB: evidence about its row, never repaired on (fields.py).
    Decoding in Python costs about twice the C decoder, so readers of many rows
    switch to it only once they met such a value (`undecodable`).
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def undecodable(exc: BaseException) -> bool:
    """Whether a read failed on a TEXT value that is not UTF-8 (see `tolerant_text`)."""
    return isinstance(exc, sqlite3.OperationalError) and "Could not decode to UTF-8" in str(exc)


def describe(exc: sqlite3.Error, path: Path, busy_timeout_ms: int) -> str:
    """One line for a SQLite failure met while working on a board."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError):
        if _busy(exc):
            return f"board is locked: {path} (gave up after busy timeout {busy_timeout_ms} ms)"
        return f"cannot read board {path}: {text}"
    if "malformed" in text or "corrupt" in text:
        return f"board is corrupt: {path} ({text})"
    return f"not a usable SQLite database: {path} ({text})"


@contextmanager
def sqlite_errors(path: Path, busy_timeout_ms: int) -> Iterator[None]:
    """Turn SQLite failures met while working on a board into one-line BoardErrors."""
    try:
        yield
    except sqlite3.Error as exc:
        raise BoardError(describe(exc, path, busy_timeout_ms)) from None


def begin_immediate(conn: sqlite3.Connection, on_wait: Callable[[], None] | None) -> None:
    """Take the write lock (`BEGIN IMMEDIATE`) within the connection's busy timeout.

    SQLite's own busy wait sleeps in C, where Python sees no signal: a Ctrl-C
    would take effect only when the whole timeout ran out. So the wait is
    made here, in slices of at most WAIT_SLICE_MS, and an interrupt stops it
    between two slices. A wait longer than LOCK_NOTICE_S calls `on_wait`
    once, so a person at a terminal learns why nothing happens.
    """
    (timeout_ms,) = conn.execute("PRAGMA busy_timeout").fetchone()
    started = time.monotonic()
    noticed = False
    try:
        slice_ms = 0  # the first try does not wait at all
        while True:
            conn.execute(f"PRAGMA busy_timeout = {slice_ms}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                left_ms = timeout_ms - (time.monotonic() - started) * 1000
                if not _busy(exc) or left_ms <= 0:
                    raise
            if on_wait is not None and not noticed and time.monotonic() - started >= LOCK_NOTICE_S:
                noticed = True
                on_wait()
            slice_ms = int(min(WAIT_SLICE_MS, max(left_ms, 1)))
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite gave up on a lock (SQLITE_BUSY or SQLITE_LOCKED)."""
    text = str(exc)
    return "locked" in text or "busy" in text


@dataclass(frozen=True)
class Schema:
    """Which of the pack's tables and columns this board actually has."""

    tasks: frozenset[str]
    runs: frozenset[str] | None
    events: frozenset[str] | None


def _columns(conn: sqlite3.Connection, table: str) -> frozenset[str] | None:
    if not table:
        return None
    rows = conn.execute(f"PRAGMA table_info({ident(table)})").fetchall()
    return frozenset(row[1] for row in rows) or None


def read_schema(conn: sqlite3.Connection, pack: RulePack, path: Path) -> Schema:
    """Read the schema with PRAGMA table_info; refuse a file that is not a board."""
    tasks = _columns(conn, pack.tasks.table)
    if tasks is None:
        raise BoardError(f"not a kanban board: {path} has no table {pack.tasks.table!r}")
    for col in (pack.tasks.id, pack.tasks.status):
        if col not in tasks:
            raise BoardError(
                f"not a kanban board: table {pack.tasks.table!r} has no column {col!r}"
            )
    runs = _columns(conn, pack.runs.table)
    if runs is not None and not {pack.runs.id, pack.runs.task, pack.runs.ended_at} <= runs:
        runs = None
    events = _columns(conn, pack.events.table)
    if events is not None and not {pack.events.task, pack.events.kind} <= events:
        events = None
    return Schema(tasks=tasks, runs=runs, events=events)
