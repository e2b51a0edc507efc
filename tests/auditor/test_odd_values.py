"""Odd values on a board: evidence about their task, never a crash, never repaired on.

SQLite keeps whatever a writer stores, whatever the declared type: a PID of
2**31 or infinity, a BLOB as an id, text where a run id belongs. Every column
of the three tables is given each odd value in turn (one orphaned task per
column), and audit and repair must still report, with strict JSON, and leave
the odd tasks alone.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from support import boards
from support.cli import run_cli

from kanban_audit.auditor.fields import MAX_TIME, PID_MAX

HUGE = "x" * 200_000
VALUES: dict[str, Any] = {
    "int-beyond-64-bits-as-text": str(2**70),
    "pid-2**31": 2**31,
    "int64-max": 2**63 - 1,
    "negative": -1,
    "float": 1.5,
    "inf": math.inf,
    "-inf": -math.inf,
    "nan": math.nan,  # SQLite stores NULL
    "blob": b"\x00\xff\x1b",
    "null": None,
    "huge-string": HUGE,
}

TASK_ROLES = {
    "id": "key",
    "status": "status",
    "claim_lock": "text",
    "claim_expires": "claim_time",
    "worker_pid": "pid",
    "current_run_id": "run_ref",
    "last_heartbeat_at": "time",
    "started_at": "time",
    "worker_pid_started_at": "time",
}
RUN_ROLES = {
    "id": "run_id",
    "task_id": "key",
    "started_at": "time",
    "claim_lock": "text",
    "claim_expires": "claim_time",
    "worker_pid": "pid",
}


def _time(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and 0 <= v <= MAX_TIME


# What the audit may judge, by role (README: "Odd values on a board").
FITS = {
    "key": lambda v: isinstance(v, (str, int)),
    "status": lambda v: isinstance(v, str),
    "run_id": lambda v: isinstance(v, int),
    "run_ref": lambda v: v is None or v == "" or isinstance(v, int),
    "text": lambda v: v is None or isinstance(v, str),
    "time": lambda v: v is None or _time(v),
    "claim_time": lambda v: v is None or v == "" or _time(v),
    "pid": lambda v: v is None or (isinstance(v, int) and 0 < v <= PID_MAX),
}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _board(path: Path, value: Any) -> dict[str, int]:
    """One orphan per column of each table holding `value`: the odd ones' names and rowids.

    A task is named after the column it carries the value in (`task_runs.worker_pid`).
    """
    now = int(time.time())
    conn = boards.create(path)
    odd: dict[str, int] = {}
    roles = {"tasks": TASK_ROLES, "task_runs": RUN_ROLES, "task_events": {}}
    for table, table_roles in roles.items():
        for column in _columns(conn, table):
            name = f"{table}.{column}"
            run_id = boards.never_spawned(conn, name, now)
            (rowid,) = conn.execute("SELECT rowid FROM tasks WHERE id = ?", (name,)).fetchone()
            key = {"tasks": rowid, "task_runs": run_id}.get(table)
            where = "task_id = ?" if key is None else "rowid = ?"
            if (table, column) == ("task_runs", "id"):
                continue  # the rowid itself: SQLite holds only integers there
            try:
                conn.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (value, key or name))
            except sqlite3.Error:  # NOT NULL
                continue
            if column in table_roles:
                sql = f"SELECT {column} FROM {table} WHERE rowid = ?"
                (stored,) = conn.execute(sql, (key,)).fetchone()
                if not FITS[table_roles[column]](stored):
                    odd[name] = rowid
    conn.close()
    return odd


def _strict(text: str) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


# A well-typed time in the future (2038) refuses the repair's clock as a whole (README:
# "It refuses a clock ... older than the times the repair would write after"): one line.
CLOCK = "a repair would record history that runs backwards"


def _clean(proc: Any) -> None:
    if proc.returncode == 2 and CLOCK in proc.stderr:
        assert proc.stderr.count("\n") == 1 and not proc.stdout
        return
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert proc.stdout


@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
def test_odd_values_are_reported_never_repaired(tmp_path: Path, value: Any) -> None:
    path = tmp_path / "kanban.db"
    odd = _board(path, value)

    def odd_rows() -> list[Any]:
        return [
            boards.rows(path, "SELECT * FROM tasks WHERE rowid = ?", rowid)
            + boards.rows(path, "SELECT * FROM task_runs WHERE task_id = ?", name)
            for name, rowid in sorted(odd.items())
        ]

    before = odd_rows()
    text = run_cli("audit", path)
    _clean(text)
    audit = run_cli("audit", path, "--format", "json")
    _clean(audit)
    doc = _strict(audit.stdout)
    for finding in doc["findings"]:
        if finding["task_id"] in odd:
            assert not finding["repairable"], finding
    repair = run_cli("repair", path, "--apply", "--yes", "--format", "json")
    _clean(repair)
    done = _strict(repair.stdout or '{"results": []}')
    assert not {r["task_id"] for r in done["results"]} & set(odd)
    assert odd_rows() == before
    for (payload,) in boards.rows(
        path, "SELECT payload FROM task_events WHERE kind = 'reconciled'"
    ):
        _strict(payload)


def test_an_infinite_claim_expiry_is_strict_json(tmp_path: Path, dead_pid: int) -> None:
    """claim_expires = 1e999 once printed `Infinity` and was written into the event payload."""
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.dead_worker(conn, "t", now, dead_pid)
    conn.execute("UPDATE tasks SET claim_expires = 1e999")
    boards.never_spawned(conn, "u", now)
    # Evidence only (the event that tells how the task entered running): repairable still.
    conn.execute("UPDATE task_events SET run_id = -1e999 WHERE task_id = 'u' AND kind = 'claimed'")
    conn.close()
    audit = run_cli("audit", path, "--format", "json")
    assert audit.returncode == 1
    doc = _strict(audit.stdout)
    (finding,) = [f for f in doc["findings"] if f["task_id"] == "t"]
    assert finding["evidence"]["task"]["claim_expires"] == "Infinity"
    assert not finding["repairable"]
    repair = run_cli("repair", path, "--apply", "--yes", "--format", "json")
    _strict(repair.stdout)
    payloads = boards.rows(path, "SELECT payload FROM task_events WHERE kind = 'reconciled'")
    assert len(payloads) == 1
    assert _strict(payloads[0][0])["cause"] == "claim-path"
    assert _strict(payloads[0][0])["evidence"]["cause"]["run_id"] == "-Infinity"


def _raw_rows(path: Path) -> list[Any]:
    conn = sqlite3.connect(path)
    conn.text_factory = bytes
    try:
        return [
            conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in ("tasks", "task_runs")
        ]
    finally:
        conn.close()


# Text that is not UTF-8: SQLite stores it as given (CAST of a BLOB, a C writer).
NOT_UTF8 = "CAST(x'74ff1b5b324a' AS TEXT)"
NOT_UTF8_COLUMNS = [
    ("tasks", "id"),
    ("tasks", "title"),
    ("tasks", "status"),
    ("tasks", "claim_lock"),
    ("task_runs", "task_id"),
    ("task_runs", "claim_lock"),
    ("task_runs", "outcome"),
    ("task_events", "kind"),
    ("task_events", "payload"),
]


@pytest.mark.parametrize(("table", "column"), NOT_UTF8_COLUMNS)
def test_text_that_is_not_utf8_is_evidence_not_a_failed_audit(
    tmp_path: Path, table: str, column: str
) -> None:
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.never_spawned(conn, "odd", now)
    boards.never_spawned(conn, "plain", now)
    where = "id = 'odd'" if table == "tasks" else "task_id = 'odd'"
    conn.execute(f"UPDATE {table} SET {column} = {NOT_UTF8} WHERE {where}")
    conn.close()
    before = _raw_rows(path)
    for fmt in ("text", "json"):
        audit = run_cli("audit", path, "--format", fmt)
        assert audit.returncode == 1, audit.stderr
        assert audit.stderr == ""
    doc = _strict(audit.stdout)
    assert "plain" in {f["task_id"] for f in doc["findings"] if f["repairable"]}
    repair = run_cli("repair", path, "--apply", "--yes", "--format", "json")
    assert repair.returncode == 0, repair.stderr
    done = _strict(repair.stdout)
    assert {r["task_id"] for r in done["results"]} <= {"plain", "odd"}
    assert "plain" in {r["task_id"] for r in done["results"]}
    after = _raw_rows(path)
    odd_before = [r for rows in before for r in rows if b"odd" in r or b"t\xff\x1b[2J" in r]
    odd_after = [r for rows in after for r in rows if b"odd" in r or b"t\xff\x1b[2J" in r]
    if table == "tasks" and column in ("id", "status"):
        assert odd_after == odd_before  # not a task the audit can name or judge: untouched
