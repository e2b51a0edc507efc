"""Per-file summaries cached as data, in one SQLite file.

The key covers everything a summary depends on: the tool version, the code
of the summariser itself, the SQL method names from the rule pack, the module
name, the reported path and the file's bytes. Entries are JSON (codec.py),
validated on load: a corrupt, truncated, foreign or hostile entry is a miss.
A cache file that is not ours (another schema, triggers, views) is never
read or written. The cache only ever costs speed: any error disables it.

A cache folder can arrive with the code under analysis (a pull request can
commit one, or point `cache-dir` at one). Its entries cannot run anything,
but a well-formed summary that leaves out a file's writes would hide a
finding. So every entry is signed with a key kept outside every project, in
this user's cache folder: only entries this user's own runs wrote are read.

Nor does a committed cache choose where the cache writes: every file of it
(the store, SQLite's journals beside it, the key, the tag and `.gitignore`)
lives in a folder that is checked first (this user's, not a link, writable by
nobody else, so nobody else can swap a file in it), is never a link, and is
opened without following one. Anything else is one warning and no cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import sqlite3
import stat
import time
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kanban_audit import __version__
from kanban_audit.errors import UsageError
from kanban_audit.linter.codec import FORMAT, FormatError, decode, encode
from kanban_audit.linter.values import ChunkSummary, ModuleSummary

FILE = "summaries.sqlite3"
# The files SQLite makes beside the store: checked as the store is.
SIDECARS = ("-journal", "-wal", "-shm")
TAG_FILE = "CACHEDIR.TAG"
SCHEMA = (
    "CREATE TABLE summaries (key TEXT PRIMARY KEY, created INTEGER NOT NULL, data BLOB NOT NULL)"
)
EXPIRE_S = 30 * 24 * 3600
FLAGS_PER_QUERY = 500  # keys in one `IN (...)`: well below SQLite's limit on parameters
SECRET_BYTES = 32
MAC_BYTES = 32
BUSY_MS = 2000
TAG = "Signature: 8a477f597d28d172789f06886806bc55\n"


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code an entry comes from: a changed summariser (or pre-filter)
    is a new key."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    # orm.py: the ORM write methods the recognisers read.
    code = [here / "values.py", here / "codec.py", here / "prefilter.py", here / "orm.py"]
    for path in sorted([*code, *here.glob("summarize/*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def secret_path() -> Path:
    """Where this user's signing key lives: `$XDG_CACHE_HOME/kanban-audit/secret`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kanban-audit" / "secret"


@functools.lru_cache(maxsize=1)
def user_secret() -> bytes | None:
    """This user's signing key, made on first use; None (no cache) when it cannot be
    read or made. Created whole under a temporary name and linked into place, so two
    runs starting together agree on one key."""
    path = secret_path()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    if unsafe_folder(path.parent) is not None:
        return None
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        temporary = path.with_name(f".secret-{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(os.urandom(SECRET_BYTES))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another run made it first: theirs is the key
        finally:
            os.unlink(temporary)
        return _read_secret(path)
    except OSError:
        return None


def _read_secret(path: Path) -> bytes | None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as source:
        secret = source.read(SECRET_BYTES + 1)
    return secret if len(secret) == SECRET_BYTES else None


def unsafe_folder(folder: Path) -> str | None:
    """Why the cache must not keep files in `folder`, or None: it must be a folder
    (not a link to one) of this user that nobody else can write in."""
    return _unsafe(folder, folder=True)


def unsafe_file(path: Path) -> str | None:
    """Why the cache must not open `path`, or None (it may also not exist yet): a
    regular file of this user with no other name (not a link, not a hard link)."""
    return _unsafe(path, folder=False)


def _unsafe(path: Path, folder: bool) -> str | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "does not exist" if folder else None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not (stat.S_ISDIR if folder else stat.S_ISREG)(info.st_mode):
        return "is not a directory" if folder else "is not a regular file"
    if info.st_uid != os.geteuid():
        return "is owned by another user"
    if folder and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "is writable by other users"
    if not folder and info.st_nlink != 1:
        return "has other names (hard links)"
    return None


def signed(secret: bytes, key: str, blob: bytes) -> bytes:
    """An entry as stored: the signature of its key and bytes, then the bytes."""
    return _signature(secret, key, blob) + blob


def _signature(secret: bytes, key: str, blob: bytes) -> bytes:
    return hmac.digest(secret, key.encode() + b"\x00" + blob, "sha256")


def _verified(secret: bytes, key: str, entry: bytes) -> bytes | None:
    blob = entry[MAC_BYTES:]
    return blob if hmac.compare_digest(_signature(secret, key, blob), entry[:MAC_BYTES]) else None


def check_folder(folder: Path) -> Path:
    """Refuse, before any work, a cache folder the cache must not or cannot write in.

    The cache itself never fails a run (a write error only costs speed), so a
    mistyped `--cache-dir` would go unnoticed forever. A folder that holds
    files but no cache (neither our tag nor our store) is refused too:
    `cache-dir = "."` in a hostile configuration must not turn the project
    into a cache (a CACHEDIR.TAG there makes backup tools skip the project).
    """
    if os.path.islink(folder):
        return folder  # never used: the cache says why, once, and the run goes on
    if folder.is_dir():
        # Our store or its journal, even as a link: the cache then says why it is not used.
        ours = (folder / TAG_FILE).is_file() or any(
            os.path.lexists(folder / (FILE + end)) for end in ("", *SIDECARS)
        )
        if not ours and any(folder.iterdir()):
            raise UsageError(f"cache directory {folder}: not empty and not a kanban-audit cache")
        return folder
    for place in (folder, *folder.parents):
        if place.is_dir():
            return folder
        if os.path.lexists(place):
            raise UsageError(f"cache directory {folder}: {place} is not a directory")
    return folder


def salt() -> str:
    """What every key covers: the tool, the format and the summariser's code."""
    return f"{__version__}\x1f{FORMAT}\x1f{code_digest()}"


def cache_key(content: bytes, module: str, display: str, sql_methods: tuple[str, ...]) -> str:
    """The key of a whole file's summary (a chunk's key is `summarize.chunks.chunk_key`)."""
    digest = hashlib.sha256()
    header = "\x1f".join([salt(), module, display, ",".join(sql_methods)])
    digest.update(header.encode("utf-8") + b"\x00")
    digest.update(content)
    return "f" + digest.hexdigest()


def seed_keys(contents: Mapping[str, bytes], table: str, status: str) -> dict[str, str]:
    """The keys of the pre-filter's verdicts on files' bytes (for this table and column)."""
    header = hashlib.sha256(f"{salt()}\x1f{table}\x1f{status}\x00".encode())
    keys = {}
    for display, content in contents.items():
        digest = header.copy()
        digest.update(content)
        keys[display] = "s" + digest.hexdigest()
    return keys


class SummaryCache:
    """Reads and writes summaries; opened lazily, disabled on the first error."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE
        self._conn: sqlite3.Connection | None = None
        self._usable = True
        self._secret = b""  # this user's signing key, read when the store is opened
        self.warning = ""  # why the cache is not used, when that is not this run's choice

    def get(self, key: str, module: str, display: str) -> ModuleSummary | None:
        """The summary stored for this key, if it is one of this very file."""
        summary = self._load(key, ModuleSummary)
        if summary is None or (summary.module, summary.path) != (module, display):
            return None
        return summary

    def get_chunk(self, key: str, first_line: int) -> ChunkSummary | None:
        """What one top-level statement contributes, placed at its first line (chunks
        are stored counting from 1: see summarize.chunks)."""
        return self._load("c" + key, ChunkSummary, first_line - 1)

    def _load(self, key: str, kind: type, line_shift: int = 0) -> Any:
        conn = self._open(create=False)
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT data FROM summaries WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            self._disable()
            return None
        if row is None or not isinstance(row[0], bytes):
            return None
        blob = _verified(self._secret, key, row[0])
        if blob is None:
            return None  # written by another user, another machine or by hand
        try:
            return decode(zlib.decompress(blob), kind, line_shift)
        except (FormatError, zlib.error, MemoryError, RecursionError):
            return None

    def put_all(
        self,
        files: list[tuple[str, ModuleSummary]],
        chunks: list[tuple[str, ChunkSummary, int]] = (),  # type: ignore[assignment]
    ) -> None:
        """Store summaries in one transaction (a chunk counting from its first line)."""
        entries = [(key, value, 0) for key, value in files]
        entries += [("c" + key, chunk, 1 - first) for key, chunk, first in chunks]
        self._write(
            [(key, zlib.compress(encode(value, shift), 1)) for key, value, shift in entries]
        )

    def get_flags(self, keys: list[str]) -> dict[str, bool]:
        """The yes/no verdicts stored under these keys (see `put_flags`)."""
        conn = self._open(create=False)
        found: dict[str, bool] = {}
        if conn is None:
            return found
        try:
            for start in range(0, len(keys), FLAGS_PER_QUERY):
                part = keys[start : start + FLAGS_PER_QUERY]
                marks = ",".join("?" * len(part))
                query = f"SELECT key, data FROM summaries WHERE key IN ({marks})"
                for key, entry in conn.execute(query, part):
                    flag = _verified(self._secret, key, entry) if type(entry) is bytes else None
                    if flag in (b"0", b"1"):
                        found[key] = flag == b"1"
        except sqlite3.Error:
            self._disable()
            return {}
        return found

    def put_flags(self, flags: dict[str, bool]) -> None:
        """Store yes/no verdicts about files (the pre-filter's: does it write the table?)."""
        self._write([(key, b"1" if flag else b"0") for key, flag in flags.items()])

    def _write(self, entries: list[tuple[str, bytes]]) -> None:
        """Store signed entries in one transaction; old entries expire on the way."""
        if not entries:
            return
        conn = self._open(create=True)
        if conn is None:
            return
        now = int(time.time())
        rows = [(key, now, signed(self._secret, key, data)) for key, data in entries]
        try:
            # One transaction (the connection is in autocommit mode, where each row
            # would be one, each waiting for the disk).
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR REPLACE INTO summaries VALUES (?, ?, ?)", rows)
                conn.execute("DELETE FROM summaries WHERE created < ?", (now - EXPIRE_S,))
                conn.execute("COMMIT")
            except sqlite3.Error:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            self._disable()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _open(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is not None or not self._usable:
            return self._conn
        secret = user_secret()
        if secret is None:
            self.warning = f"cannot read or make the cache's key {secret_path()}: no cache"
            self._usable = False
            return None
        self._secret = secret
        if not os.path.lexists(self.path):
            if not create:
                return None
            try:
                self._create_folder()
            except OSError:
                self._usable = False
                return None
        why = self._unsafe()
        if why is not None:
            self.warning = f"not using the cache: {why}"
            self._usable = False
            return None
        try:
            conn = self._connect(create)
            if conn is None:
                self.warning = f"not using the cache: {self.path} changed while opened"
                self._usable = False
                return None
            conn.execute("PRAGMA trusted_schema = OFF")
            objects = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
            if not objects:
                conn.execute(SCHEMA)
            elif not _ours(objects):
                conn.close()
                self.warning = f"ignoring {self.path}: not a kanban-audit cache"
                self._usable = False
                return None
        except (sqlite3.Error, OSError):
            self._usable = False
            return None
        self._conn = conn
        return conn

    def _unsafe(self) -> str | None:
        """Why the store must not be opened: its folder or one of its files is not safe."""
        why = unsafe_folder(self.folder)
        if why is not None:
            return f"{self.folder} {why}"
        for path in [self.path, *(Path(f"{self.path}{end}") for end in SIDECARS)]:
            why = unsafe_file(path)
            if why is not None:
                return f"{path.name} {why}"
        return None

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        """SQLite opens the store by name: the file is opened here first without
        following a link, and the connection kept only if the name still leads to
        that very file (None otherwise)."""
        flags = os.O_RDWR | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.path, flags | (os.O_CREAT if create else 0), 0o600)
        try:
            opened = os.fstat(fd)
            conn = sqlite3.connect(
                self.path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False
            )
            now = os.lstat(self.path)
        finally:
            os.close(fd)
        if (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
            conn.close()
            return None
        return conn

    def _create_folder(self) -> None:
        """A new folder gets the cache tag and a `.gitignore`; an existing one is left
        as it is (its files are not ours to replace). Nobody else may write in it.

        It is filled under a passing name beside it and renamed into place, so an
        interrupted first run leaves no folder at all, never one without its
        `.gitignore` (a run would take it for a cache made by hand and leave it so)."""
        if os.path.lexists(self.folder):
            return
        self.folder.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        staging = self.folder.parent / f".{self.folder.name}.{os.getpid()}.{time.time_ns()}"
        os.mkdir(staging, 0o755)
        try:
            for name, text in ((TAG_FILE, TAG), (".gitignore", "*\n")):
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                with os.fdopen(os.open(staging / name, flags, 0o644), "w") as out:
                    out.write(text)
            os.rename(staging, self.folder)
        except OSError:
            _remove_staging(staging)
            if not os.path.isdir(self.folder):
                raise
            # Made by another run meanwhile: checked as any existing folder is.
        except BaseException:  # Ctrl-C
            _remove_staging(staging)
            raise

    def _disable(self) -> None:
        self.close()
        self._usable = False


def _remove_staging(staging: Path) -> None:
    """Take away a cache folder that was being made (only the files it is made with)."""
    for name in (TAG_FILE, ".gitignore"):
        with contextlib.suppress(OSError):
            os.unlink(staging / name)
    with contextlib.suppress(OSError):
        os.rmdir(staging)


def _ours(objects: list[tuple[str, str, str | None]]) -> bool:
    """Exactly our table and its primary-key index: nothing that could run on a read."""
    kinds = sorted((kind, name) for kind, name, _ in objects)
    table = [sql for kind, name, sql in objects if kind == "table" and name == "summaries"]
    return kinds == [
        ("index", "sqlite_autoindex_summaries_1"),
        ("table", "summaries"),
    ] and table == [SCHEMA]
