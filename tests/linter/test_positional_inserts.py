"""INSERT without a column list: the pack's column order, checked; without it, KA002."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kanban_audit
from kanban_audit.errors import UsageError
from kanban_audit.rulepack import load_pack, parse_pack

from .harness import REPO, run_case

TASKS = '[tasks]\ntable = "tasks"\nstatus = "status"\nguarded = "running"\nrepair_to = "ready"\n'
SOURCE = """\
def create(conn, task_id):
    conn.execute("INSERT INTO tasks VALUES (?, ?, ?)", (task_id, "t", "todo"))


def copy(conn):
    conn.execute("INSERT INTO task_runs VALUES ('r', 't', 'running')")
"""


def test_the_hermes_order_is_the_schemas() -> None:
    schema = (REPO / "examples" / "hermes-schema.sql").read_text()
    body = re.search(r"CREATE TABLE IF NOT EXISTS tasks \((.*?)\n\);", schema, re.S)
    assert body is not None
    columns = tuple(line.split()[0] for line in body.group(1).strip().splitlines())
    assert load_pack().tasks.columns == columns


def test_without_an_order_the_columns_are_unknown(tmp_path: Path) -> None:
    (tmp_path / "board.py").write_text(SOURCE)
    pack = parse_pack(TASKS + '\n[lint]\nsanctioned = ["claim_task"]\n', "mini.toml")
    result = run_case(tmp_path, [Path("board.py")], pack=pack)
    assert [(f.line, f.code) for f in result.findings] == [(2, "KA002")]
    assert "INSERT INTO tasks without a column list" in result.findings[0].message


def test_with_an_order_the_positions_are_columns(tmp_path: Path) -> None:
    (tmp_path / "board.py").write_text(SOURCE.replace('"todo"', '"running"'))
    columns = 'columns = ["ID", "Title", "Status"]\n'
    pack = parse_pack(TASKS + columns + '\n[lint]\nsanctioned = ["claim_task"]\n', "mini.toml")
    result = kanban_audit.lint(["board.py"], cwd=tmp_path, isolated=True, cache=False, pack=pack)
    assert [(f.line, f.code) for f in result.findings] == [(2, "KA001")]


@pytest.mark.parametrize(
    ("columns", "says"),
    [
        ('["id", "title"]', "must list the 'status' column"),
        ('["status", "title"]', "must list the 'id' column"),
        ('["id", "status", "Status"]', "'Status' is listed twice"),
        ('"id, status"', "expected a list of strings"),
    ],
)
def test_a_bad_column_order_is_a_usage_error(columns: str, says: str) -> None:
    with pytest.raises(UsageError, match=re.escape(says)):
        parse_pack(TASKS + f"columns = {columns}\n", "bad.toml")
