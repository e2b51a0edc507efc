"""Writes to a table the lint cannot name: never silent when they may enter the guarded state.

`f"UPDATE {table} SET status = 'running'"` with `table` known nowhere in the
analysed code may be the tasks table. When its SET list or column list names
the status column and the value written can be the guarded state or is not
known, it is KA002 "table unknown"; a value that excludes the guarded state
needs nothing. A parameter is judged at each call, as for any write.

A copy of rows is not a choice of values: `INSERT INTO {t} (...) SELECT ...
FROM {old}` (a migration rebuilding a table) writes into the status column
what the query reads out of stored rows, so it is not reported. The copy is
told apart by its SQL: an INSERT whose rows come from a SELECT and whose
status value is read there (a column, an expression over columns), not a
literal, a placeholder or a value interpolated into the text.
"""

from __future__ import annotations

from dataclasses import replace

from kanban_audit.linter.solve.atoms import Atom, open_expr
from kanban_audit.linter.sql import WriteEffect
from kanban_audit.linter.values import OnUnknownTable
from kanban_audit.rulepack import TasksSection


def writes_status(tasks: TasksSection, effect: WriteEffect) -> bool:
    """Whether a write to an unnamed table chooses a value for the status column."""
    return effect.column == tasks.status.lower() and not copies_rows(effect)


def note(tasks: TasksSection, effect: WriteEffect) -> str:
    return f"{tasks.status} of a table not known here ({effect.statement})"


def judged(
    tasks: TasksSection, effect: WriteEffect, atoms: list[Atom], named: list[Atom]
) -> list[Atom]:
    """The values such a write stores, as findings read them (`on_unknown_table`). The
    guarded state the same write already stores in the board's table by another of
    its texts (`named`: a table name that is its default or a value not known here)
    is that one flow."""
    found: list[Atom] = []
    for atom in atoms:
        if atom.kind == "const" and atom.value == tasks.guarded and atom in named:
            continue
        found += on_unknown_table(tasks.guarded, effect.statement, atom)
    return found


def reason(statement: str) -> str:
    """What a finding on such a write says first."""
    return f"table unknown: the {statement}'s table is named by a value not known here"


def on_unknown_table(guarded: str, statement: str, atom: Atom) -> list[Atom]:
    """One value of such a write: the guarded state and values not known here are
    unknowns that say the table is; other constants are nothing; a parameter is read
    so at each call (what a caller passes is not a write to the board's table)."""
    why = reason(statement)
    if atom.kind == "const":
        if atom.value != guarded:
            return []
        return [Atom("unknown", f"{why}, writing {atom.value!r}", chain=atom.chain)]
    if atom.kind == "unknown":
        return [replace(atom, value=f"{why}; {atom.value}")]
    return [replace(atom, expr=OnUnknownTable(open_expr(atom), statement))]


def copies_rows(effect: WriteEffect) -> bool:
    """An INSERT ... SELECT whose status value the query reads from stored rows."""
    return (
        effect.selected
        and bool(effect.values)
        and all(value.kind == "unknown" for value in effect.values)
    )
