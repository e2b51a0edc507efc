"""Finding the files to analyse: walking trees, globs, module names."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


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
                absolute, display_path(absolute, cwd), module_name(absolute)
            )

    for given in paths:
        absolute = given.absolute()
        if not os.path.lexists(absolute):
            errors.append(FileError(display_path(absolute, cwd), "no such file or directory"))
        elif absolute.is_file():
            add(absolute)  # named explicitly: analysed whatever its name
        elif not absolute.is_dir():
            errors.append(FileError(display_path(absolute, cwd), "not a file or directory"))
        else:
            _walk(absolute, relative, include, exclude, add, errors, cwd)
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
