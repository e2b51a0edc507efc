"""Finding the files to analyse: walking trees, globs, module names."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kanban_audit.errors import UsageError
from kanban_audit.linter.findings import FileError
from kanban_audit.linter.globs import Globs, matches
from kanban_audit.linter.ignore import Ignores, ignores_above
from kanban_audit.linter.modules import module_names, unique_names

NOT_FOLLOWED = "symbolic link out of the analysed tree, not followed"


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    display: str  # as reported: relative to the current directory when inside it
    module: str
    # Shorter names the module answers to when a folder on the way is on sys.path.
    aliases: tuple[str, ...] = ()


def display_path(path: Path, cwd: Path) -> str:
    """The path as reported: relative to `cwd` when inside it, always printable.

    A file name that is not valid UTF-8 keeps its bytes as `\\xNN` escapes, so
    every output format can carry it.
    """
    try:
        text = path.relative_to(cwd).as_posix()
    except ValueError:
        text = path.as_posix()
    return printable(text)


def printable(text: str) -> str:
    """Undecodable bytes of a file name (surrogate escapes) as `\\xNN`."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _why_not(path: Path, error: OSError) -> str:
    """Why a path named on the command line cannot be read."""
    if isinstance(error, FileNotFoundError):
        return "broken symbolic link" if os.path.islink(path) else "no such file or directory"
    return error.strerror or str(error)


@dataclass
class Discovery:
    """The files to analyse, the entries that could not be, and what to tell the user."""

    files: list[SourceFile] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The `.sql` files met on the walk (absolute path, display path): SQL text the
    # analysed code may read (sqlfiles.py).
    sql_files: list[tuple[Path, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Walk:
    """What a walk keeps: names to include, globs to exclude, whether git's rules apply."""

    root: str  # the project's root, with a trailing "/": exclude globs are relative to it
    include: Globs
    exclude: tuple[str, ...]
    respect_gitignore: bool

    def relative(self, path: str) -> str:
        return path[len(self.root) :] if path.startswith(self.root) else path.lstrip("/")


def discover(
    paths: list[Path],
    root: Path,
    cwd: Path,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    respect_gitignore: bool = True,
) -> Discovery:
    """The Python files under the given paths; a path that is not there is a UsageError.

    A file named here is analysed whatever its name (a `.sql` one as SQL text the
    code may read), and a folder named here
    is walked even if an exclude glob or an ignore file names it; below it
    both apply. A symbolic link met on the walk is followed only to a place
    inside the folders named here (as git stores a link, not what it points
    at), and a folder is walked once, however many links lead to it.
    """
    walk = Walk(str(root).rstrip("/") + "/", Globs.of(include), exclude, respect_gitignore)
    found = Discovery()
    seen: set[Path] = set()
    roots = tuple(os.path.realpath(p.absolute()) for p in paths)
    walked: set[str] = set()  # the real paths of the folders walked

    def add(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            module, aliases = module_names(path, root)
            display = display_path(path, cwd)
            names = tuple(printable(name) for name in aliases)
            found.files.append(SourceFile(path, display, printable(module), names))

    def warn(path: Path, why: str) -> None:
        found.warnings.append(f"{display_path(path, cwd)}: {why}")

    for given in paths:
        absolute = given.absolute()
        try:
            mode = os.stat(absolute).st_mode
        except OSError as exc:
            raise UsageError(f"{display_path(absolute, cwd)}: {_why_not(absolute, exc)}") from None
        if stat.S_ISREG(mode) and absolute.name.endswith(".sql"):
            found.sql_files.append((absolute, display_path(absolute, cwd)))
        elif stat.S_ISREG(mode):
            add(absolute)
        elif stat.S_ISDIR(mode):
            _walk(absolute, walk, Scope(roots, walked), add, found, warn, cwd)
        else:
            raise UsageError(f"{display_path(absolute, cwd)}: not a file or directory")
    found.files = unique_names(sorted(found.files, key=lambda f: f.display))
    return found


@dataclass(frozen=True)
class Scope:
    """Where links may lead (the real paths of the named folders), and the folders
    already walked (by real path): no link leaves the analysed tree, none loops."""

    roots: tuple[str, ...]
    walked: set[str]

    def holds(self, path: str) -> bool:
        """Whether the place a link leads to is inside the analysed tree."""
        real = os.path.realpath(path)
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)


def _walk(
    top: Path,
    walk: Walk,
    scope: Scope,
    add: Callable[[Path], None],
    found: Discovery,
    warn: Callable[[Path, str], None],
    cwd: Path,
) -> None:
    """Depth first, never entering an excluded or ignored folder (the cheap way to skip it)."""
    errors = found.errors
    start = str(top)
    excluded = Globs.of(tuple(p for p in walk.exclude if not matches(walk.relative(start), (p,))))
    ignores = ignores_above(top, warn) if walk.respect_gitignore else Ignores()
    if ignores.ignored(start, is_dir=True):
        ignores = ignores.without_matches(start)
    stack = [(start, ignores)]
    while stack:
        folder, ignores = stack.pop()
        real = os.path.realpath(folder)
        if real in scope.walked:
            continue  # the same folder through another link: already analysed
        scope.walked.add(real)
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as exc:
            errors.append(FileError(display_path(Path(folder), cwd), _unreadable(exc)))
            continue
        if walk.respect_gitignore:
            ignores = ignores.enter(folder, {e.name for e in entries}, warn)
        folders = []
        for entry in entries:
            rel = walk.relative(entry.path)
            kind = _kind(entry)
            leaves = entry.is_symlink() and not scope.holds(entry.path)
            if kind == "folder":
                if excluded.match(rel, entry.name) or ignores.ignored(entry.path, True):
                    continue
                if leaves:
                    warn(Path(entry.path), NOT_FOLLOWED)
                    continue
                if entry.is_symlink() and (real + os.sep).startswith(
                    os.path.realpath(entry.path) + os.sep
                ):
                    where = display_path(Path(entry.path), cwd)
                    errors.append(FileError(where, "symlink loop: links to a parent"))
                    continue
                folders.append((entry.path, ignores))
            elif entry.name.endswith(".sql"):
                if _kept_sql(kind, leaves, excluded.match(rel, entry.name)) and not (
                    ignores.ignored(entry.path, False)
                ):
                    sql = Path(entry.path)
                    found.sql_files.append((sql, display_path(sql, cwd)))
            elif walk.include.match(rel, entry.name) and not (
                excluded.match(rel, entry.name) or ignores.ignored(entry.path, False)
            ):
                if leaves:
                    warn(Path(entry.path), NOT_FOLLOWED)
                elif kind == "file":
                    add(Path(entry.path))
                else:
                    errors.append(FileError(display_path(Path(entry.path), cwd), kind))
        stack.extend(reversed(folders))


def _kept_sql(kind: str, leaves: bool, excluded: bool) -> bool:
    """Whether a `.sql` file met on the walk is kept as SQL text the code may read:
    a regular file inside the tree, not excluded."""
    return kind == "file" and not leaves and not excluded


def _kind(entry: os.DirEntry) -> str:
    """ "folder", "file", or why the entry is neither (symlinks followed)."""
    try:
        if entry.is_dir():
            return "folder"
        if entry.is_file():
            return "file"
    except OSError:  # a symlink loop
        return "broken symlink"
    return (
        "broken symlink"
        if entry.is_symlink() and not os.path.exists(entry.path)
        else "not a regular file"
    )


def _unreadable(error: OSError) -> str:
    return (
        "permission denied" if isinstance(error, PermissionError) else error.strerror or str(error)
    )
