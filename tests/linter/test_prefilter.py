"""The pre-filter reads bytes: every spelling of a write to the table, never slowly."""

from __future__ import annotations

import time

import pytest

from kanban_audit.linter.prefilter import Prefilter
from kanban_audit.rulepack import load_pack

WRITES = [
    b'"UPDATE /* the board */ tasks SET status = ?"',
    b'"UPDATE tasks -- its cards\\n SET status = ?"',
    b'("UPDATE "  # the board\n "tasks SET status = ?")',
    b'"update [main].[Tasks] set status=?"',
    b'"INSERT /* one */ INTO /* two */ tasks VALUES (?)"',
    b'"INSERT INTO tasks\\nVALUES (?)"',
    b'"UPDATE tasks INDEXED BY ix SET status = ?"',
    b'"UPDATE tasks NOT INDEXED SET status = ?"',
    # A table named by a value may be the tasks table...
    b'f"UPDATE {table} SET status = ?"',
    b'f"INSERT INTO {table}({column}) VALUES(?)"',
    b'f"INSERT INTO {t}({T}) VALUES(?)"',
    # ...and a full-text command's string may go on into an upsert.
    b"f\"INSERT INTO {t}({t}) VALUES('x') ON CONFLICT DO UPDATE SET status = ?\"",
    b'f"INSERT INTO {t}({t}) VALUES(\'x\')" " ON CONFLICT DO UPDATE SET status = ?"',
    b'f"INSERT INTO {t}({t}) VALUES(\'x\')" f" ON CONFLICT DO UPDATE SET status = ?"',
    b'f"INSERT INTO {t}({t}) VALUES(\'x\')"\n + " ON CONFLICT DO UPDATE SET status = ?"',
]
NOT_WRITES = [
    b'"UPDATE tasks_archive /* x */ SET status = ?"',
    b'"DELETE FROM tasks WHERE status = ?"',
    b"# update the tasks: see below",
    # SQLite full-text commands: the one column is named like the table.
    b"f\"INSERT INTO {table}({table}) VALUES('rebuild')\"",
    b'f"insert into {fts}({fts}) values(?)", (command,)',
]
# Inputs a backtracking pattern would take exponential time on.
HOSTILE = [
    b"update " + b"-- " * 5000 + b"x",
    b"update # " + b"-" * 20000 + b"\nx",
    b"update " + b"\\" * 5000 + b"x",
    b"into /*" + b" *" * 5000,
    b"update " + b"' \" [ ] + " * 5000 + b"x",
    b"into {a}({a}) values(" + b"'x" * 5000,
    b"into {a}({a}) values('x')\"" + b" " * 5000 + b"'",
]


@pytest.fixture(scope="module")
def prefilter() -> Prefilter:
    return Prefilter({}, {}, load_pack())


@pytest.mark.parametrize("text", WRITES)
def test_writes_are_seeds(prefilter: Prefilter, text: bytes) -> None:
    assert prefilter.writes_table(text)


@pytest.mark.parametrize("text", NOT_WRITES)
def test_reads_and_other_tables_are_not(prefilter: Prefilter, text: bytes) -> None:
    assert not prefilter.writes_table(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_bytes_are_read_in_linear_time(prefilter: Prefilter, text: bytes) -> None:
    start = time.perf_counter()
    prefilter.writes_table(text * 4)
    assert time.perf_counter() - start < 1.0
