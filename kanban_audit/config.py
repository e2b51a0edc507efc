"""`[tool.kanban-audit]` in the nearest pyproject.toml, validated."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from kanban_audit.errors import UsageError

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


def load_config(start: Path, explicit: Path | None = None) -> Config:
    """Read the config that applies to `start` (or the given file)."""
    path = explicit or find_pyproject(start.resolve())
    if path is None:
        return Config(root=start.resolve())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    section = data.get("tool", {}).get("kanban-audit", {})
    root = path.parent.resolve()
    where = f"{path}: [tool.kanban-audit]"
    known = {
        "rules",
        "include",
        "exclude",
        "extend-exclude",
        "select",
        "ignore",
        "per-file-ignores",
        "cache-dir",
    }
    unknown = sorted(set(section) - known)
    if unknown:
        raise UsageError(f"{where}: unknown option {unknown[0]!r}")
    per_file = section.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise UsageError(f"{where}.per-file-ignores: expected a table")
    values: dict = {
        "root": root,
        "source": path,
        "per_file_ignores": {
            k: _strings(v, f"{where}.per-file-ignores.{k}") for k, v in per_file.items()
        },
    }
    for key in ("include", "exclude", "extend-exclude", "select", "ignore"):
        if key in section:
            values[key.replace("-", "_")] = _strings(section[key], f"{where}.{key}")
    for key in ("rules", "cache-dir"):
        if key in section:
            if not isinstance(section[key], str):
                raise UsageError(f"{where}.{key}: expected a string")
            values[key.replace("-", "_")] = root / section[key]
    return Config(**values)
