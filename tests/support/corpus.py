"""The real-world corpus: hand-labelled task boards from PyPI, read from their folders.

Each `tests/corpus/projects/<id>/` holds `project.toml` (the pinned file and the
labels: every write of the running-like state, the findings the lint must
report, the known gaps) and `pack.toml` (the board's rule pack). The format is
in docs/corpus.md. A file that breaks it fails loudly, naming the file and the
key: a label the tests cannot read would judge nothing.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from typing import Any

from support.pypi import Pin

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECTS = Path(__file__).resolve().parents[1] / "corpus" / "projects"
WRITES_BY = ("sql", "orm")
DRIVERS = (
    "sqlite3",
    "aiosqlite",
    "psycopg",
    "psycopg2",
    "asyncpg",
    "sqlalchemy",
    "sqlmodel",
    "django",
    "peewee",
)
CODES = ("KA001", "KA002")
# missed, false, misplaced: the pack's run against the [[finding]]s;
# claim-unseen: a claim write the run with nothing sanctioned does not report.
GAP_KINDS = ("missed", "false", "misplaced", "claim-unseen")
SHA256 = re.compile(r"[0-9a-f]{64}")
# Project fields that are not keys of [project]: `lint` (a list) is checked apart.
_NOT_IN_HEAD = ("id", "folder", "lint", "writes", "findings", "gaps")


class CorpusError(ValueError):
    """A project folder that does not follow the corpus format."""


@dataclass(frozen=True)
class Write:
    """A place that writes (or can write) the guarded state into the status column."""

    path: str
    line: int
    function: str
    claim: bool
    value: str
    why: str


@dataclass(frozen=True)
class Finding:
    """What the lint must report with the project's pack."""

    path: str
    line: int
    code: str
    why: str


@dataclass(frozen=True)
class Gap:
    """A known disagreement of the tool with the labels."""

    kind: str
    path: str
    line: int
    reason: str


@dataclass(frozen=True)
class Project:
    id: str  # the folder's name
    folder: Path
    name: str
    version: str
    file: str
    sha256: str
    writes_by: str
    driver: str
    lint: tuple[str, ...]
    summary: str
    writes: tuple[Write, ...]
    findings: tuple[Finding, ...]
    gaps: tuple[Gap, ...]

    @property
    def pin(self) -> Pin:
        return Pin(self.name, self.version, self.file, self.sha256)

    @property
    def pack(self) -> Path:
        return self.folder / "pack.toml"

    @property
    def claims(self) -> tuple[Write, ...]:
        return tuple(w for w in self.writes if w.claim)

    def gaps_of(self, *kinds: str) -> tuple[Gap, ...]:
        return tuple(g for g in self.gaps if g.kind in kinds)


def _record(cls: type, data: Any, where: str) -> Any:
    """One table as `cls`: every field present with its type, nothing else."""
    return cls(**_checked({f.name: f.type for f in fields(cls)}, data, where))


def _checked(wanted: dict[str, Any], data: Any, where: str) -> dict[str, Any]:
    """A table holding exactly the `wanted` keys, each of its type (by name)."""
    if not isinstance(data, dict):
        raise CorpusError(f"{where}: expected a table")
    unknown = sorted(set(data) - set(wanted))
    if unknown:
        raise CorpusError(f"{where}: unknown key {unknown[0]!r}")
    missing = [name for name in wanted if name not in data]
    if missing:
        raise CorpusError(f"{where}: missing key {missing[0]!r}")
    for name, kind in wanted.items():
        value = data[name]
        if kind == "int" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise CorpusError(f"{where}.{name}: expected a line number (an integer >= 1)")
        if kind == "bool" and not isinstance(value, bool):
            raise CorpusError(f"{where}.{name}: expected true or false")
        if kind == "str" and (not isinstance(value, str) or not value.strip()):
            raise CorpusError(f"{where}.{name}: expected a non-empty string")
    return data


def _relative(path: str, where: str) -> str:
    """A path inside the unpacked file, as the lint reports it."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or "\\" in path or path != pure.as_posix():
        raise CorpusError(f"{where}: {path!r} is not a plain relative path (a/b.py)")
    return path


def _choice(value: str, options: tuple[str, ...], where: str) -> str:
    if value not in options:
        raise CorpusError(f"{where}: {value!r} is not one of {', '.join(options)}")
    return value


def _gap_run(gap: Any, where: str) -> Any:
    """A gap of the run with nothing sanctioned may say so with `unsanctioned = true` or
    `sanctioned = []`; it is then a `claim-unseen` (written `missed` or so)."""
    if not isinstance(gap, dict) or not ({"unsanctioned", "sanctioned"} & set(gap)):
        return gap
    rest = {k: v for k, v in gap.items() if k not in ("unsanctioned", "sanctioned")}
    if gap.get("unsanctioned", True) is not True or gap.get("sanctioned", []) != []:
        raise CorpusError(f"{where}: only `unsanctioned = true` or `sanctioned = []` name a run")
    if rest.get("kind") not in ("missed", "claim-unseen"):
        raise CorpusError(f"{where}: with nothing sanctioned a gap is a missed claim write")
    return {**rest, "kind": "claim-unseen"}


def _claim_gap(gap: Gap, writes: list[Write], found: list[Finding]) -> Gap:
    """A `missed` gap at a claim write that no [[finding]] labels can only mean the run
    with nothing sanctioned: it is that run's `claim-unseen`."""
    spot = (gap.path, gap.line)
    if gap.kind != "missed" or any((f.path, f.line) == spot for f in found):
        return gap
    if any((w.path, w.line) == spot and w.claim for w in writes):
        return Gap("claim-unseen", gap.path, gap.line, gap.reason)
    return gap


def _tables(data: dict, key: str, where: str) -> list:
    tables = data.get(key, [])
    if not isinstance(tables, list):
        raise CorpusError(f"{where}: [[{key}]] must be an array of tables")
    return tables


def load_project(folder: Path) -> Project:
    """The project in `folder`, validated; CorpusError names the file and the key."""
    source = folder / "project.toml"
    where = str(source)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CorpusError(f"{where}: cannot read: {exc}") from None
    if not (folder / "pack.toml").is_file():
        raise CorpusError(f"{folder / 'pack.toml'}: missing (the board's rule pack)")
    unknown = sorted(set(data) - {"project", "write", "finding", "gap"})
    if unknown:
        raise CorpusError(f"{where}: unknown section {unknown[0]!r}")
    head = data.get("project")
    if not isinstance(head, dict):
        raise CorpusError(f"{where}: missing section [project]")
    head = dict(head)
    lint = head.pop("lint", None)
    if not isinstance(lint, list) or not lint or not all(isinstance(p, str) for p in lint):
        raise CorpusError(f"{where}: [project].lint: expected a non-empty list of paths")
    head_keys = {f.name: f.type for f in fields(Project) if f.name not in _NOT_IN_HEAD}
    meta = SimpleNamespace(**_checked(head_keys, head, f"{where}: [project]"))
    if not SHA256.fullmatch(meta.sha256):
        raise CorpusError(f"{where}: [project].sha256: expected 64 lower-case hex digits")
    try:
        Pin(meta.name, meta.version, meta.file, meta.sha256)
    except ValueError as exc:
        raise CorpusError(f"{where}: [project].file: {exc}") from None
    writes = [
        _record(Write, w, f"{where}: [[write]] #{n}")
        for n, w in enumerate(_tables(data, "write", where), 1)
    ]
    found = [
        _record(Finding, f, f"{where}: [[finding]] #{n}")
        for n, f in enumerate(_tables(data, "finding", where), 1)
    ]
    gaps = [
        _record(Gap, _gap_run(g, f"{where}: [[gap]] #{n}"), f"{where}: [[gap]] #{n}")
        for n, g in enumerate(_tables(data, "gap", where), 1)
    ]
    gaps = [_claim_gap(g, writes, found) for g in gaps]
    for item in (*writes, *found, *gaps):
        _relative(item.path, f"{where}: {item.path}:{item.line}")
    places = [(f.path, f.line, f.code) for f in found]
    for n, f in enumerate(found):
        _choice(f.code, CODES, f"{where}: [[finding]] {f.path}:{f.line} code")
        if places[n] in places[:n]:
            raise CorpusError(f"{where}: [[finding]] {f.path}:{f.line} {f.code} is listed twice")
    for g in gaps:
        _choice(g.kind, GAP_KINDS, f"{where}: [[gap]] {g.path}:{g.line} kind")
    return Project(
        id=folder.name,
        folder=folder,
        name=meta.name,
        version=meta.version,
        file=meta.file,
        sha256=meta.sha256,
        writes_by=_choice(meta.writes_by, WRITES_BY, f"{where}: [project].writes_by"),
        driver=_choice(meta.driver, DRIVERS, f"{where}: [project].driver"),
        lint=tuple(_relative(p, f"{where}: [project].lint") for p in lint),
        summary=meta.summary,
        writes=tuple(writes),
        findings=tuple(found),
        gaps=tuple(gaps),
    )


def load_projects(root: Path = PROJECTS) -> list[Project]:
    """Every project folder under `root`, in name order."""
    return [load_project(p.parent) for p in sorted(root.glob("*/project.toml"))]
