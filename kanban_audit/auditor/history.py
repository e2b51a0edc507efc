"""What the tool did to a board: its repairs and undos, read back from the event table.

A repair records a `reconciled` event (the pack's `repair_kind`) and an undo an
event of the pack's `undo_kind`; both carry `"tool": "kanban-audit"` in their
payload, which tells them from the board's own sweeps (Hermes writes
`reconciled` events too). Read-only.
"""

from __future__ import annotations

import getpass
import json
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kanban_audit.auditor.board import (
    BoardError,
    Schema,
    connect,
    ident,
    read_schema,
    sqlite_errors,
)
from kanban_audit.rulepack import RulePack

TOOL = "kanban-audit"
REPAIR = "repair"
UNDO = "undo"


@dataclass(frozen=True)
class Entry:
    """One repair or undo: the event behind it and what its payload says."""

    event_id: int
    task_id: str
    what: str
    at: int | None
    payload: dict[str, Any]
    # For a repair: the undo that reverted it; for an undo: the repair it reverted.
    undone_by: int | None = None
    undoes: int | None = None

    def as_dict(self) -> dict[str, Any]:
        p = self.payload
        return {
            "event_id": self.event_id,
            "task_id": self.task_id,
            "what": self.what,
            "at": self.at,
            "codes": p.get("codes", []),
            "action": p.get("action"),
            "cause": p.get("cause"),
            "by": p.get("by"),
            "tool_version": p.get("version"),
            "undone_by": self.undone_by,
            "undoes": self.undoes,
        }


def who() -> dict[str, str]:
    """Who writes: the user and the host, recorded in the event."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {"user": user, "host": socket.gethostname()}


def _payload(text: Any) -> dict[str, Any] | None:
    """Our own payload, or None (another writer's, or not JSON: never trusted further)."""
    if not isinstance(text, str):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("tool") == TOOL else None


def read(
    conn: sqlite3.Connection, pack: RulePack, schema: Schema, task: str | None = None
) -> list[Entry]:
    """The tool's events on an open board, oldest first, undos linked to their repairs."""
    e = pack.events
    if schema.events is None or e.payload not in schema.events:
        return []
    created = ident(e.created_at) if e.created_at in schema.events else "NULL"
    sql = (
        f"SELECT rowid, {ident(e.task)}, {ident(e.kind)}, {ident(e.payload)}, {created}"
        f" FROM {ident(e.table)} WHERE {ident(e.kind)} IN (?, ?)"
    )
    params: list[Any] = [e.repair_kind, e.undo_kind]
    if task is not None:
        sql += f" AND {ident(e.task)} = ?"
        params.append(task)
    entries: dict[int, Entry] = {}
    for rowid, task_id, kind, text, at in conn.execute(sql + " ORDER BY rowid", params):
        payload = _payload(text)
        if payload is None:
            continue
        if kind == e.undo_kind:
            undoes = payload.get("undoes")
            target = entries.get(undoes) if isinstance(undoes, int) else None
            if target is not None:
                entries[undoes] = Entry(**{**target.__dict__, "undone_by": rowid})
            entries[rowid] = Entry(rowid, str(task_id), UNDO, at, payload, undoes=undoes)
        else:
            entries[rowid] = Entry(rowid, str(task_id), REPAIR, at, payload)
    return list(entries.values())


def history(
    path: Path, pack: RulePack, busy_timeout_ms: int, task: str | None = None
) -> list[Entry]:
    """Open the board read-only and list the tool's repairs and undos."""
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms)
        try:
            schema = read_schema(conn, pack, path)
            if schema.events is None:
                raise BoardError(f"no history: {path} has no event table {pack.events.table!r}")
            return read(conn, pack, schema, task)
        finally:
            conn.close()
