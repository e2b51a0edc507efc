"""The project's own `.sql` files: read once, safely, as text the analysed code may load.

Only files the walk found inside the analysed tree are ever read (a link out of
it is not followed, see discover.py); a path the analysed code builds is looked
up among them, never opened. A file too large, unreadable or not UTF-8 is not
known here: the code that reads it reads a value not known.

A file of named queries (`-- name: start_job` as aiosql writes it, or
`-- start_job --`) is read in sections, one per marker line: a text the program
cuts out of such a file is one of its sections, each judged whole.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from kanban_audit.linter.sqlfunctions import SqlFunction, defined_functions

MAX_SQL_BYTES = 1024 * 1024
# A line that names the query after it: `-- name --` or `-- name: name` (aiosql, yesql).
_MARKER = re.compile(
    r"^--[ \t]*(?:name:[ \t]*([A-Za-z_][\w.-]*)[^\n]*|([A-Za-z_][\w.-]*)[ \t]*--[ \t]*)$",
    re.MULTILINE,
)


_SQL_NAME = re.compile(rb"([\w.-]*)\.sql\b", re.IGNORECASE)


class NamedText(tuple):
    """A text (a template) that stands under a name in its file: a section after a
    marker line, or the whole file read as one of a folder's (its stem)."""

    name: str

    def __new__(cls, pieces: Iterable, name: str) -> NamedText:
        made = super().__new__(cls, pieces)
        made.name = name
        return made


@dataclass(frozen=True)
class SqlFiles:
    """The `.sql` files of the analysed tree by display path, and where packages lie."""

    texts: Mapping[str, str] = field(default_factory=dict)
    # Module name -> display path of its file (a package's `__init__.py`).
    modules: Mapping[str, str] = field(default_factory=dict)

    @functools.cached_property
    def functions(self) -> list[SqlFunction]:
        """The SQL functions and procedures the files define (read once a run)."""
        return [f for text in self.texts.values() for f in defined_functions(text)]

    def text(self, path: str) -> str | None:
        return self.texts.get(posixpath.normpath(path))

    def in_folder(self, folder: str, pattern: str, recursive: bool) -> list[str]:
        """The files of a folder whose name matches a glob (`*.sql`), in order."""
        folder = posixpath.normpath(folder)
        found = []
        for path in sorted(self.texts):
            head, name = posixpath.split(path)
            inside = head == folder or (recursive and head.startswith(folder + "/"))
            if inside and fnmatchcase(name, posixpath.basename(pattern)):
                found.append(path)
        return found

    def package_folder(self, dotted: str) -> str | None:
        """The folder a package name stands for: its own, or a folder below the nearest
        package the program holds (`pkg.sql` for a data folder with no `__init__.py`)."""
        parts = dotted.split(".")
        for n in range(len(parts), 0, -1):
            display = self.modules.get(".".join(parts[:n]))
            if display is None:
                continue
            folder = posixpath.dirname(display)
            if not display.endswith("__init__.py"):
                return None if n < len(parts) else folder
            return posixpath.join(folder, *parts[n:])
        return None


def names_sql_file(data: bytes, names: frozenset[bytes]) -> bool:
    """Whether bytes name one of these SQL files by its file name (`"queries.sql"`,
    `"sql/start.sql"`), or a `.sql` file whose name is built (`"*.sql"`,
    `f"{name}.sql"`): a file naming only other SQL files does not read these."""
    if b".sql" not in data.lower():
        return False
    for match in _SQL_NAME.finditer(data):
        if not match.group(1) or match.group().lower() in names:
            return True
    return False


def read_sql_files(found: Iterable[tuple[Path, str]]) -> dict[str, str]:
    """The text of each (path, display) found, those small enough and in UTF-8."""
    texts: dict[str, str] = {}
    for path, display in found:
        try:
            if path.stat().st_size > MAX_SQL_BYTES:
                continue
            texts[posixpath.normpath(display)] = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return texts


def sections(text: str) -> list[tuple[str, str]]:
    """A file's named sections, in order (the text before the first marker is unnamed);
    a file with no marker line is one unnamed section."""
    found: list[tuple[str, str]] = []
    name, start = "", 0
    for match in _MARKER.finditer(text):
        found.append((name, text[start : match.start()]))
        name, start = match.group(1) or match.group(2), match.end()
    found.append((name, text[start:]))
    return [(name, body) for name, body in found if name or body.strip()]
