"""SQL expressions the lint evaluates give what SQLite itself gives; the rest are unknown."""

from __future__ import annotations

import sqlite3

import pytest

from kanban_audit.linter.sql import parse_writes

# Expressions whose value the lint computes: SQLite is the oracle.
COMPUTED = [
    "'run' || 'ning'",
    "'r' || 'u' || 'nn' || 'ing'",
    "printf('%s', 'running')",
    "printf('run%sg', 'nin')",
    "printf('%s%%', 'x')",
    "format('%s', 'running')",
    "lower('RUNNING')",
    "upper('running')",
    "trim('  running ')",
    "ltrim('xxrunning', 'x')",
    "rtrim('running..', '.')",
    "substr('xrunning', 2)",
    "substr('running', 0, 3)",
    "substr('running', -3)",
    "substr('running', -3, 2)",
    "substr('running', 4, -2)",
    "substr('running', -10, 4)",
    "substring('xxrunning', 3, 7)",
    "replace('re-running', 're-', '')",
    "replace('running', '', 'x')",
    "CAST('running' AS TEXT)",
    "char(114, 117, 110, 110, 105, 110, 103)",
    "COALESCE(NULL, 'running')",
    "IFNULL(NULL, 'running')",
    "IIF(1, 'running', 'running')",
    "CASE WHEN 1 THEN CASE WHEN 1 THEN 'running' ELSE 'running' END ELSE 'running' END",
    "(SELECT 'running')",
    "'running' COLLATE NOCASE",
    "+'running'",
]


@pytest.mark.parametrize("expression", COMPUTED)
def test_computed_values_are_sqlites(expression: str) -> None:
    (effect,) = parse_writes(f"UPDATE tasks SET status = {expression} WHERE id = 1")
    (actual,) = sqlite3.connect(":memory:").execute(f"SELECT {expression}").fetchone()
    assert {v.kind for v in effect.values} == {"literal"}
    assert {v.value for v in effect.values} == {actual}


@pytest.mark.parametrize(
    "expression",
    [
        "previous_status",
        "(SELECT status FROM tasks WHERE id = 2)",
        "json_extract(?, '$.s')",
        "? ->> '$.s'",
        "printf('%5s', 'running')",
        "substr(?, ?)",
        "(SELECT 'running' UNION SELECT 'ready')",
    ],
)
def test_what_is_not_understood_is_unknown(expression: str) -> None:
    (effect,) = parse_writes(f"UPDATE tasks SET status = {expression} WHERE id = 1")
    assert "unknown" in {v.kind for v in effect.values}


@pytest.mark.parametrize(
    "expression",
    ["status", "tasks.status", "? + 1", "length('running')", "(? = 'running')", "NULL"],
)
def test_computed_numbers_truths_and_the_old_value_write_no_new_text(expression: str) -> None:
    (effect,) = parse_writes(f"UPDATE tasks SET status = {expression} WHERE id = 1")
    assert effect.values == ()


@pytest.mark.parametrize(("expression", "text"), [("12", "12"), ("01", "1"), ("1.0", "1.0")])
def test_a_number_is_the_text_a_column_stores(expression: str, text: str) -> None:
    """A board whose states are numbers (`status = 1`) is judged by those texts."""
    (effect,) = parse_writes(f"UPDATE tasks SET status = {expression} WHERE id = 1")
    assert [(v.kind, v.value) for v in effect.values] == [("literal", text)]


def test_placeholders_inside_functions_wait_for_their_parameters() -> None:
    (effect,) = parse_writes("UPDATE tasks SET status = lower(trim(?)) WHERE id = ?")
    (value,) = effect.values
    assert (value.kind, value.value) == ("apply", "LOWER")
    assert value.parts[0][0].kind == "apply"
