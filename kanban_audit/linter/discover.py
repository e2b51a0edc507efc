"""Finding the files to analyse: walking trees, globs, module names."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kanban_audit.errors import UsageError
from kanban_audit.linter.findings import FileError


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    display: str  # as reported: relative to the current directory when inside it
    module: str


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-like glob: `**` spans directories, `*` stays inside one."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(relpath: str, patterns: tuple[str, ...], parents: bool = True) -> bool:
    """Whether a path (or, with `parents`, any of its folders) matches one of the globs.

    A pattern without a slash matches a name at any depth, as in .gitignore.
    """
    parts = relpath.split("/")
    if parents:
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    else:
        parts, prefixes = parts[-1:], [relpath]
    for pattern in patterns:
        regex = glob_regex(pattern.rstrip("/"))
        if "/" in pattern.rstrip("/"):
            if any(regex.match(prefix) for prefix in prefixes):
                return True
        elif any(regex.match(part) for part in parts):
            return True
    return False


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


def module_name(path: Path) -> str:
    """The dotted module name, walking up through package folders."""
    package = _package(path.parent)
    if path.name == "__init__.py":
        return package or path.stem
    stem = path.name.rsplit(".", 1)[0]
    return f"{package}.{stem}" if package else stem


@lru_cache(maxsize=4096)
def _package(folder: Path) -> str:
    """The dotted package a folder is, or "" if it holds no __init__.py."""
    if folder.parent == folder or not (folder / "__init__.py").is_file():
        return ""
    parent = _package(folder.parent)
    return f"{parent}.{folder.name}" if parent else folder.name


def discover(
    paths: list[Path],
    root: Path,
    cwd: Path,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
) -> tuple[list[SourceFile], list[FileError]]:
    """The Python files under the given paths; problems become FileErrors."""
    found: dict[Path, SourceFile] = {}
    errors: list[FileError] = []

    def relative(path: Path) -> str:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            return path.as_posix().lstrip("/")

    def add(path: Path) -> None:
        absolute = path.absolute()
        if absolute not in found:
            found[absolute] = SourceFile(
                absolute, display_path(absolute, cwd), printable(module_name(absolute))
            )

    for given in paths:
        absolute = given.absolute()
        try:
            mode = os.stat(absolute).st_mode
        except OSError as exc:
            raise UsageError(f"{display_path(absolute, cwd)}: {_why_not(absolute, exc)}") from None
        if stat.S_ISREG(mode):
            add(absolute)  # named explicitly: analysed whatever its name
        elif stat.S_ISDIR(mode):
            _walk(absolute, relative, include, exclude, add, errors, cwd)
        else:
            raise UsageError(f"{display_path(absolute, cwd)}: not a file or directory")
    return sorted(found.values(), key=lambda f: f.display), errors


def _walk(
    top: Path,
    relative: Callable[[Path], str],
    include: tuple[str, ...],
    excluded: tuple[str, ...],
    add: Callable[[Path], None],
    errors: list[FileError],
    cwd: Path,
) -> None:
    # A folder named explicitly is analysed even if a pattern would exclude it.
    excluded = tuple(p for p in excluded if not matches(relative(top), (p,)))
    seen: set[str] = set()
    for folder, dirs, files in os.walk(top, followlinks=True):
        here = Path(folder)
        real = os.path.realpath(here)
        if here.is_symlink() and (str(here.parent.resolve()) + os.sep).startswith(real + os.sep):
            errors.append(FileError(display_path(here, cwd), "symlink loop: links to a parent"))
            dirs[:] = []
            continue
        if real in seen:
            dirs[:] = []  # the same folder through another link: already analysed
            continue
        seen.add(real)
        if not os.access(here, os.R_OK | os.X_OK):
            errors.append(FileError(display_path(here, cwd), "permission denied"))
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not matches(relative(here / d), excluded))
        for name in sorted(files):
            path = here / name
            rel = relative(path)
            if not matches(name, include) or matches(rel, excluded, parents=False):
                continue
            if not path.exists():
                errors.append(FileError(display_path(path, cwd), "broken symlink"))
                continue
            add(path)
