"""The program's own schema: column orders from the `CREATE TABLE` statements in its
SQL text (module constants, the SQL a function runs), ahead of the pack's.

A program that creates its own tasks table says what `INSERT INTO tasks
VALUES (?, ?, ?)` writes position by position; the pack's order (the
board's schema) is for programs that write a table created elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kanban_audit.linter.solve.reads import CREATED
from kanban_audit.linter.sqlschema import created_tables
from kanban_audit.linter.values import Concat, Expr, Lit, OneOf

if TYPE_CHECKING:
    from kanban_audit.linter.solve.index import ProgramIndex
    from kanban_audit.rulepack import RulePack

Orders = dict[str, list[str]]


def column_orders(index: ProgramIndex, pack: RulePack) -> Orders:
    """Table -> its columns in order: the tasks table as the program creates it, else
    as the pack orders it."""
    tasks = pack.tasks
    table = tasks.table.lower()
    index.read_fact(CREATED)
    if index.created is None:  # read once a program: most programs create no tasks table
        index.created = _created(index)
    own = index.created.get(table)
    if own:
        return {table: own}
    return {table: [c.lower() for c in tasks.columns]} if tasks.columns else {}


def _created(index: ProgramIndex) -> Orders:
    """Every table the analysed code creates, with its columns (the first definition
    found of each)."""
    found: Orders = {}
    for text in literal_texts(index):
        if "create" in text.lower() and "table" in text.lower():
            for name, columns in created_tables(text).items():
                found.setdefault(name, columns)
    return found


def literal_texts(index: ProgramIndex) -> list[str]:
    """The SQL texts written as literals in the analysed code: module constants and
    the SQL its functions run (where a schema is usually kept)."""
    sources: list[Expr] = list(index.globals.values())
    sources += [sink.target for fn in index.functions.values() for sink in fn.sinks]
    return [text for source in sources for text in _texts(source)]


def _texts(expr: Expr) -> Iterator[str]:
    """The literal texts an expression is written as (adjacent strings joined)."""
    if isinstance(expr, Lit) and isinstance(expr.value, str):
        yield expr.value
    elif isinstance(expr, Concat) and all(isinstance(p, Lit) for p in expr.parts):
        yield "".join(str(p.value) for p in expr.parts)  # type: ignore[union-attr]
    elif isinstance(expr, OneOf):
        for option in expr.options:
            yield from _texts(option)
