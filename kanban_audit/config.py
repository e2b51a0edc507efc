"""`[tool.kanban-audit]` in the nearest pyproject.toml, validated."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kanban_audit.errors import UsageError
from kanban_audit.linter.globs import MAX_WILDCARDS, too_costly
from kanban_audit.userfile import read_user_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".eggs",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".kanban-audit-cache",
    "node_modules",
    "build",
    "dist",
    "site-packages",
)


@dataclass(frozen=True)
class Config:
    root: Path
    source: Path | None = None
    rules: Path | None = None
    include: tuple[str, ...] = ("*.py", "*.pyi")
    # `exclude` replaces the defaults; `extend-exclude` adds to them.
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cache_dir: Path | None = None
    respect_gitignore: bool = True


LISTS = ("include", "exclude", "extend-exclude", "select", "ignore")
GLOBS = ("include", "exclude", "extend-exclude")
PATHS = ("rules", "cache-dir")
# "audit" is the auditor's own table (auditor/policy.py reads it).
KNOWN = {*LISTS, *PATHS, "per-file-ignores", "respect-gitignore", "audit"}


def find_pyproject(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UsageError(f"{where}: expected a string or a list of strings")


def _check_globs(patterns: tuple[str, ...], where: str) -> None:
    for pattern in patterns:
        if too_costly(pattern):
            raise UsageError(f"{where}: {pattern!r} has more than {MAX_WILDCARDS} wildcards")


def _table(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise UsageError(f"{where}: expected a table")
    return value


def _inside(path: Path, root: Path) -> bool:
    """Whether `path` stays inside `root` once `..` and links (existing ones) are followed.

    The configuration comes with the code under analysis: the folder it names
    for the cache must not lead the cache's writes anywhere else.
    """
    real = os.path.realpath(path)
    return real == str(root) or real.startswith(str(root).rstrip(os.sep) + os.sep)


def load_config(start: Path, explicit: Path | None = None) -> Config:
    """Read the config that applies to `start` (or the given file)."""
    path = explicit or find_pyproject(start.resolve())
    if path is None:
        return Config(root=start.resolve())
    what = "config file" if explicit else "configuration"
    try:
        data = tomllib.loads(read_user_text(path, what))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from None
    tool = _table(data.get("tool", {}), f"{path}: [tool]")
    where = f"{path}: [tool.kanban-audit]"
    section = _table(tool.get("kanban-audit", {}), where)
    unknown = sorted(set(section) - KNOWN)
    if unknown:
        raise UsageError(f"{where}: unknown option {unknown[0]!r}")
    root = path.parent.resolve()
    per_file = _table(section.get("per-file-ignores", {}), f"{where}.per-file-ignores")
    values: dict = {
        "root": root,
        "source": path,
        "per_file_ignores": {
            k: _strings(v, f"{where}.per-file-ignores.{k}") for k, v in per_file.items()
        },
    }
    for key in LISTS:
        if key in section:
            values[key.replace("-", "_")] = _strings(section[key], f"{where}.{key}")
    for key in GLOBS:
        _check_globs(values.get(key.replace("-", "_"), ()), f"{where}.{key}")
    _check_globs(tuple(per_file), f"{where}.per-file-ignores")
    for key in PATHS:
        if key in section:
            if not isinstance(section[key], str):
                raise UsageError(f"{where}.{key}: expected a string")
            values[key.replace("-", "_")] = root / section[key]
    if "cache_dir" in values and not _inside(values["cache_dir"], root):
        raise UsageError(
            f"{where}.cache-dir: {section['cache-dir']!r} leads out of the project"
            " (a cache folder elsewhere is given with --cache-dir)"
        )
    if "respect-gitignore" in section:
        if not isinstance(section["respect-gitignore"], bool):
            raise UsageError(f"{where}.respect-gitignore: expected true or false")
        values["respect_gitignore"] = section["respect-gitignore"]
    return Config(**values)
