"""Rule packs: a board's invariants as data, loaded from TOML and validated."""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import MISSING, dataclass, field, fields
from fnmatch import fnmatchcase, translate
from importlib import resources
from pathlib import Path
from typing import Any

from kanban_audit.errors import UsageError
from kanban_audit.userfile import read_user_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_PACK = "hermes"
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A stray worker given longer than this to stop on SIGTERM is a typo, not a policy.
MAX_STOP_GRACE_S = 3600
# A list in a pack longer than this is not a description of a board.
MAX_LIST = 1000
# sqlite3, psycopg and aiosqlite run SQL with these; asyncpg with execute, fetch,
# fetchrow and fetchval (a write with RETURNING is fetched); aiosqlite adds its own.
SQL_METHODS = (
    "execute",
    "executemany",
    "executescript",
    "query",
    "fetch",
    "fetchrow",
    "fetchval",
    "execute_fetchall",
    "execute_insert",
)


@dataclass(frozen=True)
class BoardSection:
    env_db: str = ""
    env_home: str = ""
    # A home variable whose board root is the home itself, or for a profile home
    # (`<root>/<profiles_dir>/<name>`, or any folder inside default_home) that root.
    env_root: str = ""
    profiles_dir: str = ""
    default_home: str = ""
    env_board: str = ""
    current_file: str = ""
    default_board: str = "default"
    default_db: str = "kanban.db"
    board_db: str = "boards/{slug}/kanban.db"
    # A file that makes a named board exist before its DB does.
    board_marker: str = ""
    # Board names: a regular expression they must match, and "lower" to lowercase them.
    slug_pattern: str = ""
    slug_case: str = ""
    busy_timeout_ms: int = 120_000


@dataclass(frozen=True)
class TasksSection:
    status: str
    guarded: str
    # The table's name or a glob pattern; a pack that names the ORM `model` may omit it.
    table: str = ""
    repair_to: str = ""
    id: str = "id"
    claim_lock: str = ""
    claim_expires: str = ""
    worker_pid: str = ""
    current_run: str = ""
    heartbeat: str = ""
    started_at: str = ""
    worker_started_at: str = ""
    # Shown beside a finding, never compared by a repair.
    title: str = ""
    assignee: str = ""
    # The table's columns in order: what an INSERT without a column list writes.
    columns: tuple[str, ...] = ()
    # The ORM model of the table (a class name, or a glob over the qualified name);
    # `status` is then its field. Without it, a model whose mapping names the table.
    model: str = ""

    def names_table(self, name: str) -> bool:
        """Whether a table name (lower case, as SQL reads it) is the tasks table: the
        pack's name exactly, or a name its glob pattern matches (`*jobs`)."""
        return fnmatchcase(name, self.table.lower())

    @property
    def table_text(self) -> str:
        """Text every name of the table holds (lower case): the longest literal run of
        the name or pattern; SQL text without it cannot write the table."""
        return max(re.split(r"\*|\?|\[[^\]]*\]", self.table.lower()), key=len)

    @property
    def table_is_pattern(self) -> bool:
        return any(c in self.table for c in "*?[")

    @property
    def shown(self) -> str:
        """How findings name the table: its name or pattern, else the model."""
        return self.table or self.model


@dataclass(frozen=True)
class RunsSection:
    table: str = ""
    id: str = "id"
    task: str = "task_id"
    status: str = "status"
    claim_lock: str = ""
    claim_expires: str = ""
    worker_pid: str = ""
    started_at: str = "started_at"
    ended_at: str = "ended_at"
    outcome: str = "outcome"
    error: str = "error"
    closed_as: str = "reclaimed"
    # The status of an open run: what an undo gives back to a run a repair closed.
    open_status: str = "running"


@dataclass(frozen=True)
class EventsSection:
    table: str = ""
    task: str = "task_id"
    run: str = "run_id"
    kind: str = "kind"
    payload: str = "payload"
    created_at: str = "created_at"
    repair_kind: str = "reconciled"
    undo_kind: str = "reconcile_undone"
    claim_kinds: tuple[str, ...] = ("claimed",)
    status_kinds: tuple[str, ...] = ()
    status_keys: tuple[str, ...] = ("to", "status")


@dataclass(frozen=True)
class WorkersSection:
    """How a worker process names its board, task and run in its environment.

    Without `env_db` and `env_task` the audit cannot tell this board's
    workers among the host's processes, and KD007 is skipped.
    """

    env_db: str = ""
    env_task: str = ""
    env_run: str = ""
    env_claim_lock: str = ""
    # Seconds repair waits after SIGTERM before it sends SIGKILL.
    stop_grace_seconds: int = 5

    @property
    def enabled(self) -> bool:
        return bool(self.env_db and self.env_task)


@dataclass(frozen=True)
class LintSection:
    sanctioned: tuple[str, ...] = ()
    sql_methods: tuple[str, ...] = SQL_METHODS


@dataclass(frozen=True)
class PackMeta:
    """The `[pack]` table: what a pack calls itself."""

    name: str = ""
    description: str = ""


@dataclass(frozen=True)
class RulePack:
    name: str
    source: str
    tasks: TasksSection
    board: BoardSection = field(default_factory=BoardSection)
    runs: RunsSection = field(default_factory=RunsSection)
    events: EventsSection = field(default_factory=EventsSection)
    workers: WorkersSection = field(default_factory=WorkersSection)
    lint: LintSection = field(default_factory=LintSection)
    description: str = ""
    text: str = ""

    def is_sanctioned(self, qualname: str) -> bool:
        """Whether a function (by qualified name) may write the guarded state: its
        name, or its qualified name or a dotted tail of it, matches a pattern."""
        exact, patterns = self._sanctioned
        return qualname.rsplit(".", 1)[-1] in exact or patterns.match(qualname) is not None

    @functools.cached_property
    def _sanctioned(self) -> tuple[frozenset[str], re.Pattern[str]]:
        """The sanctioned list as one set of plain names and one pattern, made once:
        each function of the program is asked about, not each pair with a pattern."""
        exact = frozenset(
            p for p in self.lint.sanctioned if "." not in p and not any(c in p for c in "*?[")
        )
        globs = [g for p in self.lint.sanctioned for g in (p, "*." + p) if p not in exact]
        return exact, re.compile("|".join(f"(?:{translate(g)})" for g in globs) or "(?!)")


_SECTIONS: dict[str, type] = {
    "board": BoardSection,
    "tasks": TasksSection,
    "runs": RunsSection,
    "events": EventsSection,
    "workers": WorkersSection,
    "lint": LintSection,
}


def _build(cls: type, data: object, where: str) -> Any:
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a table")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise UsageError(f"{where}: unknown key {unknown[0]!r}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        expected = known[name].type
        if "tuple" in str(expected):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"{where}.{name}: expected a list of strings")
            if len(value) > MAX_LIST:
                raise UsageError(f"{where}.{name}: more than {MAX_LIST} entries")
            value = tuple(value)
        elif expected in ("int", int):
            if not isinstance(value, int) or isinstance(value, bool):
                raise UsageError(f"{where}.{name}: expected an integer")
        elif not isinstance(value, str):
            raise UsageError(f"{where}.{name}: expected a string")
        elif not value and known[name].default is MISSING:
            raise UsageError(f"{where}.{name}: must not be empty")
        values[name] = value
    try:
        return cls(**values)
    except TypeError:
        missing = [
            f.name
            for f in fields(cls)
            if f.name not in values and f.default is MISSING and f.default_factory is MISSING
        ]
        raise UsageError(f"{where}: missing key {missing[0]!r}") from None


def parse_pack(text: str, source: str) -> RulePack:
    """Parse and validate a pack's TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: not valid TOML: {exc}") from None
    meta = _build(PackMeta, data.pop("pack", {}), f"{source}: [pack]")
    if "tasks" not in data:
        raise UsageError(f"{source}: missing section [tasks]")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise UsageError(f"{source}: unknown section [{unknown[0]}]")
    sections = {
        name: _build(cls, data[name], f"{source}: [{name}]")
        for name, cls in _SECTIONS.items()
        if name in data
    }
    tasks = sections["tasks"]
    for key in ("table", "model"):
        if isinstance(data["tasks"], dict) and data["tasks"].get(key) == "":
            raise UsageError(f"{source}: [tasks].{key}: must not be empty")
    if not (tasks.table or tasks.model):
        raise UsageError(f"{source}: [tasks]: missing key 'table' (or the ORM 'model')")
    _check_columns(tasks, f"{source}: [tasks].columns")
    if tasks.table:
        _check_table(tasks.table, f"{source}: [tasks].table")
    if tasks.model:
        _check_table(tasks.model, f"{source}: [tasks].model")
    if "workers" in sections:
        _check_workers(sections["workers"], f"{source}: [workers]")
    return RulePack(
        name=meta.name or Path(source).stem,
        description=meta.description,
        source=source,
        text=text,
        **sections,
    )


def _check_columns(tasks: TasksSection, where: str) -> None:
    """A column order names the status column, once each column (SQL's case rules)."""
    if not tasks.columns:
        return
    lowered = [column.lower() for column in tasks.columns]
    if len(set(lowered)) != len(lowered):
        twice = next(c for n, c in enumerate(tasks.columns) if c.lower() in lowered[:n])
        raise UsageError(f"{where}: {twice!r} is listed twice")
    for name in (tasks.id, tasks.status):
        if name.lower() not in lowered:
            raise UsageError(f"{where}: must list the {name!r} column")


def _check_table(table: str, where: str) -> None:
    """A table is a name or a glob pattern over names (`*jobs`, `app_?`, `[ab]_jobs`)
    that holds some literal part: `*` alone would take every table for the tasks."""
    if re.search(r"\[(?![^\]]+\])", table):
        raise UsageError(f"{where}: {table!r} opens a [...] set it does not close")
    if not re.sub(r"\*|\?|\[[^\]]*\]", "", table):
        raise UsageError(f"{where}: {table!r} must hold part of the name, not only wildcards")


def _check_workers(workers: WorkersSection, where: str) -> None:
    """Environment names a process can carry, the board and the task named together."""
    names = {f.name: getattr(workers, f.name) for f in fields(workers) if f.name.startswith("env_")}
    for key, name in names.items():
        if name and not ENV_NAME.fullmatch(name):
            raise UsageError(f"{where}.{key}: {name!r} is not an environment variable name")
    if any(names.values()) and not workers.enabled:
        raise UsageError(f"{where}: env_db and env_task name a worker's board and task together")
    if not 0 <= workers.stop_grace_seconds <= MAX_STOP_GRACE_S:
        raise UsageError(f"{where}.stop_grace_seconds: 0 to {MAX_STOP_GRACE_S}")


def load_pack(path: str | Path | None = None) -> RulePack:
    """Load a pack from a file, or the bundled default when no path is given."""
    if path is None:
        ref = resources.files("kanban_audit") / "packs" / f"{DEFAULT_PACK}.toml"
        return parse_pack(ref.read_text(encoding="utf-8"), f"<bundled {DEFAULT_PACK}>")
    path = Path(path)
    return parse_pack(read_user_text(path, "rule pack"), str(path))
