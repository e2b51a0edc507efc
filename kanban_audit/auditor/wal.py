"""Leaving a board's WAL to the processes that use it.

SQLite checkpoints and deletes the WAL when what it takes for the last
connection closes. Whether others are connected it judges by the locks on the
board file, which a process loses when it opens and closes that file with
plain file calls (Hermes 0.15.0 and later do after every commit). Two things
keep the WAL in place here:

- `probe()`: every connection holds a shared lock on one byte of the `-shm`
  index (SQLite's "DMS" byte) while it is open; a lock held there by another
  process means someone still uses the board. The probe's descriptor stays
  open until after our connection closes, because closing it would drop our
  own connection's locks on the index.
- `keep_on_close()`: SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, which makes a closing
  connection leave the WAL as it is (Python 3.12's `setconfig`, or the same
  call through ctypes on older Pythons, checked against the board's name).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import sqlite3
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

NO_CKPT_ON_CLOSE = getattr(sqlite3, "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE", 1006)
DMS_BYTE = 128  # (22 + SQLITE_SHM_NLOCK) * 4 + SQLITE_SHM_NLOCK in SQLite's unix VFS


def keep_on_close(conn: sqlite3.Connection, board: Path) -> bool:
    """Make `conn` close without checkpointing or deleting the WAL; False if impossible."""
    if hasattr(conn, "setconfig"):  # Python 3.12+
        conn.setconfig(NO_CKPT_ON_CLOSE, True)
        return True
    handle = _sqlite_handle(conn, board)
    if handle is None:
        return False
    lib, db = handle
    config = lib.sqlite3_db_config
    config.restype = ctypes.c_int
    enabled = ctypes.c_int(-1)
    config(
        ctypes.c_void_p(db), ctypes.c_int(NO_CKPT_ON_CLOSE), ctypes.c_int(1), ctypes.byref(enabled)
    )
    return enabled.value == 1


def _sqlite_handle(conn: sqlite3.Connection, board: Path) -> tuple[ctypes.CDLL, int] | None:
    """The `sqlite3 *` behind a connection (the first field after the object header),
    trusted only if SQLite names the board as its main database."""
    try:
        import _sqlite3

        lib = ctypes.CDLL(_sqlite3.__file__)
        name = lib.sqlite3_db_filename
    except (ImportError, OSError, AttributeError):
        return None
    name.restype = ctypes.c_char_p
    name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    db = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
    if not db:
        return None
    found = name(db, b"main")
    if found is None or os.path.realpath(os.fsdecode(found)) != os.path.realpath(board):
        return None
    return lib, db


@contextlib.contextmanager
def probe(board: Path) -> Iterator[Callable[[], bool]]:
    """A check of whether another process holds the board's index, usable until exit.

    When it cannot tell (no index file, an unknown platform), it answers True:
    keeping the WAL is always safe, deleting it is not.
    """
    try:
        fd = os.open(f"{board}-shm", os.O_RDONLY)
    except OSError:
        yield lambda: False  # no index: nobody is connected in WAL mode
        return
    try:
        yield lambda: _locked_by_another(fd)
    finally:
        os.close(fd)


def _locked_by_another(fd: int) -> bool:
    if sys.platform.startswith("linux"):
        layout = "hhqqixxxx"  # l_type, l_whence, l_start, l_len, l_pid
        request = struct.pack(layout, fcntl.F_WRLCK, os.SEEK_SET, DMS_BYTE, 1, 0)
        kind = 0
    elif sys.platform == "darwin":
        layout = "qqihh"  # l_start, l_len, l_pid, l_type, l_whence
        request = struct.pack(layout, DMS_BYTE, 1, 0, fcntl.F_WRLCK, os.SEEK_SET)
        kind = 3
    else:
        return True
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
    except OSError:
        return True
    return struct.unpack(layout, answer)[kind] != fcntl.F_UNLCK
