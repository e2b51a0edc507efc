"""The guard: triggers that make SQLite itself refuse a write into the guarded state.

The lint finds code that can write `running` outside the claim path and the
audit finds the orphans such a write leaves; the guard stops the write
itself, whatever code attempts it. Two triggers on the tasks table, generated
from the rule pack, abort an INSERT in the guarded state and an UPDATE that
moves a task into it unless the new row carries a claim lock and a claim
expiry. The claim path sets status, lock and expiry in one statement and
passes; a bare status write does not.

Two facts of the real board shape the SQL:

- Hermes updates rows that are already `running` without a claim (the
  back-fill in `connect()`, heartbeats, the worker-PID setter), so the UPDATE
  trigger fires only when the status changes into the guarded state; a
  trigger that fired on any update of an orphan would break every Hermes
  process's first `connect()` on such a board.
- Hermes rebuilds drifted tables (rename, recreate, copy, drop). A trigger
  body that named another table would be rewritten by the rename and broken
  by the drop, so the bodies name nothing but NEW and OLD of the tasks table.
  A rebuild of the tasks table itself drops the triggers; `read_state` says so.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kanban_audit.auditor.board import (
    BoardError,
    Schema,
    begin_immediate,
    connect,
    ident,
    read_schema,
    sqlite_errors,
)
from kanban_audit.rulepack import RulePack

VERSION = 1
PREFIX = "kanban_audit_guard_"

MISSING = "missing"
PARTIAL = "partial"
OUTDATED = "outdated"
CURRENT = "current"
UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Trigger:
    """One trigger as sqlite_master holds it: name, table, CREATE text."""

    name: str
    table: str
    sql: str


@dataclass(frozen=True)
class GuardState:
    """What the board holds of the guard, compared with what `install` writes."""

    state: str
    expected: tuple[Trigger, ...]
    found: tuple[Trigger, ...]
    differences: tuple[str, ...]

    @property
    def installed(self) -> bool:
        return bool(self.found)

    @property
    def current(self) -> bool:
        return self.state == CURRENT

    def as_dict(self) -> dict[str, Any]:
        return {
            "installed": self.installed,
            "current": self.current,
            "state": self.state,
            "guard_version": VERSION,
            "expected": [t.name for t in self.expected],
            "found": [{"name": t.name, "table": t.table} for t in self.found],
            "differences": list(self.differences),
        }


@dataclass(frozen=True)
class Change:
    """What `install` or `remove` did, and the guard's state afterwards."""

    action: str
    dropped: tuple[str, ...]
    created: tuple[str, ...]
    after: GuardState


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _unavailable(pack: RulePack, schema: Schema) -> str | None:
    """Why this pack and board cannot carry the guard, or None when they can."""
    t = pack.tasks
    for role, column in (("claim_lock", t.claim_lock), ("claim_expires", t.claim_expires)):
        if not column:
            return f"the rule pack names no [tasks] {role} column, which the guard checks"
        if column not in schema.tasks:
            return f"table {t.table!r} has no column {column!r}, which the guard checks"
    return None


def expected(pack: RulePack) -> tuple[Trigger, ...]:
    """The triggers `install` writes for this pack, exactly as sqlite_master will hold them."""
    t = pack.tasks
    status = ident(t.status)
    unclaimed = " OR ".join(
        f"NEW.{ident(c)} IS NULL OR NEW.{ident(c)} = ''" for c in (t.claim_lock, t.claim_expires)
    )
    entering = f"NEW.{status} = {_literal(t.guarded)}"
    message = _literal(
        f"kanban-audit guard: only the claim path may set {t.table}.{t.status}"
        f" to '{t.guarded}' ({t.claim_lock} and {t.claim_expires} must be set)"
    )

    def trigger(event: str, on: str, when: str) -> Trigger:
        name = f"{PREFIX}v{VERSION}_{event}"
        sql = (
            f"CREATE TRIGGER {ident(name)}\n"
            f"BEFORE {on} ON {ident(t.table)}\n"
            f"FOR EACH ROW\n"
            f"WHEN {when}\n"
            f"BEGIN\n"
            f"  SELECT RAISE(ABORT, {message});\n"
            f"END"
        )
        return Trigger(name, t.table, sql)

    return (
        trigger("insert", "INSERT", f"{entering} AND ({unclaimed})"),
        trigger(
            "update",
            f"UPDATE OF {status}",
            f"{entering} AND OLD.{status} IS NOT NEW.{status} AND ({unclaimed})",
        ),
    )


def _found(conn: sqlite3.Connection) -> tuple[Trigger, ...]:
    """The tool's own triggers (any version, on any table), by name prefix."""
    rows = conn.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master"
        " WHERE type = 'trigger' AND substr(name, 1, ?) = ? ORDER BY name",
        (len(PREFIX), PREFIX),
    )
    return tuple(Trigger(name, table, sql or "") for name, table, sql in rows)


def others(conn: sqlite3.Connection, tables: tuple[str, ...]) -> tuple[Trigger, ...]:
    """Triggers on `tables` that are not the tool's own: they can change what a repair writes."""
    rows = conn.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master"
        " WHERE type = 'trigger' AND tbl_name IN (SELECT value FROM json_each(?))"
        " AND substr(name, 1, ?) IS NOT ? ORDER BY tbl_name, name",
        (json.dumps(list(tables)), len(PREFIX), PREFIX),
    )
    return tuple(Trigger(name, table, sql or "") for name, table, sql in rows)


def compare(wanted: tuple[Trigger, ...], found: tuple[Trigger, ...]) -> GuardState:
    """Judge what the board holds against what `install` writes."""
    have = {t.name: t for t in found}
    missing, other = [], []
    for want in wanted:
        got = have.get(want.name)
        if got is None:
            missing.append(f"{want.name}: missing")
        elif got.table != want.table:
            other.append(f"{want.name}: on table {got.table!r}, not {want.table!r}")
        elif got.sql != want.sql:
            other.append(f"{want.name}: its SQL differs from what install writes")
    names = {t.name for t in wanted}
    other += [f"{t.name}: not part of guard v{VERSION}" for t in found if t.name not in names]
    if not found:
        state = MISSING
    elif other:
        state = OUTDATED
    elif missing:
        state = PARTIAL
    else:
        state = CURRENT
    return GuardState(state, wanted, found, tuple(missing + other))


def read_state(conn: sqlite3.Connection, pack: RulePack, schema: Schema) -> GuardState:
    """The guard's state on an open board (read-only; any connection, any transaction)."""
    found = _found(conn)
    reason = _unavailable(pack, schema)
    if reason is not None:
        return GuardState(UNAVAILABLE, (), found, (reason,))
    return compare(expected(pack), found)


def _intact(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged file: the schema is trusted only if the whole board checks out.

    `PRAGMA quick_check` reads every page (about 2 s for 850 MB); the guard
    writes into the schema and reports on it, so a board that fails it is an
    error, never a state.
    """
    problem = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
    if problem != "ok":
        raise BoardError(f"board is corrupt: {path} (quick_check: {' '.join(problem.split())})")


def inspect(path: Path, pack: RulePack, busy_timeout_ms: int) -> GuardState:
    """Open the board read-only, check it, and read the guard's state."""
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms)
        try:
            schema = read_schema(conn, pack, path)
            conn.execute("BEGIN")  # one snapshot for the check and the state
            _intact(conn, path)
            return read_state(conn, pack, schema)
        finally:
            conn.close()


@contextmanager
def _write_transaction(
    path: Path, pack: RulePack, busy_timeout_ms: int
) -> Iterator[tuple[sqlite3.Connection, Schema]]:
    """One BEGIN IMMEDIATE transaction on the board: committed whole or not at all."""
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms, write=True)
        try:
            begin_immediate(conn, None)
            try:
                schema = read_schema(conn, pack, path)
                _intact(conn, path)
                yield conn, schema
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()


def install(path: Path, pack: RulePack, busy_timeout_ms: int) -> Change:
    """Write the current guard, replacing any other version; nothing if it is current."""
    with _write_transaction(path, pack, busy_timeout_ms) as (conn, schema):
        before = read_state(conn, pack, schema)
        if before.state == UNAVAILABLE:
            raise BoardError(f"cannot guard {path}: {before.differences[0]}")
        if before.current:
            return Change("unchanged", (), (), before)
        for old in before.found:
            conn.execute(f"DROP TRIGGER {ident(old.name)}")
        for new in before.expected:
            conn.execute(new.sql)
        after = read_state(conn, pack, schema)
    action = "updated" if before.installed else "installed"
    dropped = tuple(t.name for t in before.found)
    return Change(action, dropped, tuple(t.name for t in before.expected), after)


def remove(path: Path, pack: RulePack, busy_timeout_ms: int) -> Change:
    """Drop the tool's own triggers, whatever their version; nothing else."""
    with _write_transaction(path, pack, busy_timeout_ms) as (conn, schema):
        before = _found(conn)
        for old in before:
            conn.execute(f"DROP TRIGGER {ident(old.name)}")
        after = read_state(conn, pack, schema)
    return Change("removed" if before else "unchanged", tuple(t.name for t in before), (), after)
