"""The SQL functions of the guard fixture, run in a real PostgreSQL: a call the lint
reports is one that leaves a task running, and a call it lets pass is one that does
not (the database refuses it, or writes another state)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.linting import run_case
from support.postgres import Server, server

SCHEMA = Path(__file__).parents[1] / "fixtures/lint/packages/sql_guards/jobs/sql/schema.sql"

CALLS = [
    "SELECT finish_task(1, 'running', false)",
    "SELECT finish_task(1, 'failed', false)",
    "SELECT move_task(1, 'running')",
    "SELECT move_task(1, 'ready')",
    "SELECT park_task(1, 'running')",
    "SELECT park_task(1, 'blocked')",
    "SELECT hold_task(1, 'running')",
    "CALL set_task(1, 'running')",
    "CALL set_task(1, 'done')",
    "SELECT skip_task(1, 'running')",
    "SELECT warn_task(1, 'running')",
    "SELECT caught_task(1, 'running')",
    "SELECT nested_task(1, 'running', false)",
    "SELECT nested_task(1, 'running', true)",
    "SELECT renamed_task(1, 'done')",
]
# Calls the database refuses by a guard the lint does not read (inside another IF):
# reported all the same, as a value the lint cannot prove safe.
NOT_READ = {"SELECT nested_task(1, 'running', true)"}


@pytest.fixture(scope="module")
def database():
    with server() as running:
        running.ask(SCHEMA.read_text())
        yield running


def _leaves_running(database: Server, call: str) -> bool:
    """Whether the call moves the ready task 1 to running (task 0, before it, is running)."""
    reset = "TRUNCATE tasks; INSERT INTO tasks (id, status) VALUES (0, 'running'), (1, 'ready')"
    return database.ask(reset, call, "SELECT status FROM tasks WHERE id = 1") == "running"


def _reported(tmp_path: Path) -> set[str]:
    """The calls the lint reports, each made by a function of its own beside the schema."""
    package = tmp_path / "jobs"
    (package / "sql").mkdir(parents=True)
    shutil.copy(SCHEMA, package / "sql" / "schema.sql")
    lines = [f"def call_{n}(conn):\n    conn.execute({call!r})\n" for n, call in enumerate(CALLS)]
    (package / "calls.py").write_text("\n\n".join(lines))
    result = run_case(tmp_path, [Path("jobs/calls.py"), Path("jobs/sql/schema.sql")])
    return {CALLS[(finding.line - 2) // 4] for finding in result.findings}


def test_the_lint_reads_the_guards_as_postgresql_runs_them(database: Server, tmp_path: Path):
    reported = _reported(tmp_path)
    running = {call for call in CALLS if _leaves_running(database, call)}
    assert running - reported == set(), "calls that leave a task running, not reported"
    assert reported - running == NOT_READ
