"""What SQL functions the program defines write when its SQL calls them (sqlfunctions.py).

The definitions are read from the analysed tree's `.sql` files and from SQL
text of the analysed code (module constants, the SQL a function runs), once per
growth of the program. A function the pack sanctions by name (`[lint]
sanctioned`, matched as a Python function's name is) is the claim path's own:
what it writes is not judged at its callers. A guard in a body (`IF p NOT IN
(...) THEN RAISE`) bounds the caller's value in what the body writes after it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kanban_audit.linter.solve.context import BUDGET
from kanban_audit.linter.solve.reads import SQL_FUNCTIONS
from kanban_audit.linter.solve.schema import literal_texts
from kanban_audit.linter.sql import Orders, WriteEffect, parse_writes
from kanban_audit.linter.sqlfunctions import (
    MAX_DEPTH,
    Called,
    SqlFunction,
    by_name,
    called,
    defined_functions,
    reaches,
)
from kanban_audit.linter.sqlguards import bounded
from kanban_audit.linter.sqlvalues import SqlValue

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator


def called_writes(ev: Evaluator, text: str, orders: Orders) -> list[WriteEffect]:
    """The writes of the functions `text` calls, each noted with the function's name;
    the bodies of sanctioned functions left out."""
    functions, memo = _functions(ev)
    if not functions:
        return []
    calls = memo.get(text)
    if calls is None:
        calls = memo[text] = [c for c in called(text, functions) if not _sanctioned(ev, c)]
    effects: list[WriteEffect] = []
    for call in calls:
        where = f"in SQL function {call.function.name}()"
        if call.deep:
            effects += _unread(ev, call, functions, where)
            continue
        effects += [
            replace(effect, statement=f"{effect.statement} {where}")
            for effect in bounded(parse_writes(call.text, orders), call.bounds)
        ]
    return effects


def _unread(
    ev: Evaluator, call: Called, functions: dict[str, list[SqlFunction]], where: str
) -> list[WriteEffect]:
    """A call nested past what is read: KA002 "analysis budget exceeded" when the
    functions it reaches name the board's table and status column, never silence."""
    tasks = ev.pack.tasks
    words = (tasks.table_text.lower(), tasks.status.lower())
    if not reaches(call.function, functions, words):
        return []
    reason = f"{BUDGET}: SQL functions called more than {MAX_DEPTH} deep"
    value = SqlValue("unknown", reason)
    return [WriteEffect(tasks.table.lower(), tasks.status.lower(), (value,), f"a write {where}")]


def _sanctioned(ev: Evaluator, call: Called) -> bool:
    return ev.pack.is_sanctioned(call.function.name)


def defined(ev: Evaluator) -> dict[str, list[SqlFunction]]:
    """The SQL functions the program defines, by name."""
    return _functions(ev)[0]


def _functions(ev: Evaluator) -> tuple[dict[str, list[SqlFunction]], dict[str, list[Called]]]:
    """The functions by name (the tree's SQL files' and the code's), and the calls read
    so far by text: both kept until the program grows."""
    index = ev.index
    index.read_fact(SQL_FUNCTIONS)
    if index.sql_functions is None:
        found = list(ev.sql_files.functions)
        found += [
            function
            for text in literal_texts(index)
            if "function" in text.lower() or "procedure" in text.lower()
            for function in defined_functions(text)
        ]
        index.sql_functions = (by_name(found), {})
    return index.sql_functions
