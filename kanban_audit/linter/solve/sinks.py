"""What one write stores in the guarded column, as atoms.

SQL writes: the texts the SQL may have, parsed for the columns they write
(sql.py); each value written to the status column is a literal, a
placeholder bound from the parameters, or a hole in the text. sqlite-utils
writes: the table the receiver names and the record's status key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Atom, Frame, Hole
from kanban_audit.linter.solve.templates import marked_text
from kanban_audit.linter.sql import parse_writes
from kanban_audit.linter.values import Call, DictLit, Elem, Index, Lit, Param, Sink

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator


def sink_atoms(ev: Evaluator, sink: Sink, frame: Frame | None) -> tuple[list[Atom], str]:
    """The values one write can store in the guarded column, and what it writes
    ("" when it does not write the column)."""
    if sink.kind == "table":
        return _table_atoms(ev, sink, frame)
    tasks = ev.pack.tasks
    atoms: list[Atom] = []
    note = ""
    for template in ev.strings(sink.target, frame):
        text, holes = marked_text(template)
        if tasks.table.lower() not in text.lower():
            continue
        for effect in parse_writes(text):
            if effect.table != tasks.table.lower() or effect.column != tasks.status.lower():
                continue
            note = f"{tasks.table}.{tasks.status} ({effect.statement})"
            for value in effect.values:
                if value.kind == "literal":
                    atoms.append(Atom("const", str(value.value)))
                elif value.kind == "hole":
                    hole = holes[int(value.value)]
                    atoms += ev.values(hole.expr, hole.frame)
                elif value.uncertain:
                    atoms.append(Atom("unknown", "placeholder position depends on built SQL"))
                else:
                    atoms += _param_values(ev, sink, value.kind, value.value, frame)
    return atoms, note


def _param_values(
    ev: Evaluator, sink: Sink, kind: str, key: str | int, frame: Frame | None
) -> list[Atom]:
    """The values bound to one placeholder from the write's parameters."""
    if sink.data is None:
        return []
    many = sink.method == "executemany"
    data = Elem(sink.data) if many else sink.data
    if kind == "named":
        return ev.index_values(Index(data, Lit(key)), frame)
    rows = (
        [items for row in ev.elements(sink.data, frame) for items in ev.flatten(row, frame)]
        if many
        else ev.flatten(data, frame)
    )
    atoms: list[Atom] = []
    for items in rows:
        assert isinstance(key, int)
        if None in items[: key + 1] or key >= len(items):
            atoms.append(Atom("unknown", "parameters not known here"))
        else:
            item = items[key]
            assert item is not None
            atoms += ev.values(item, frame)
    return atoms


def table_names(ev: Evaluator, sink: Sink, frame: Frame | None) -> frozenset[str] | None:
    """The tables a sqlite-utils write may target (db["t"] or db.table("t"))."""
    receiver = sink.target
    if isinstance(receiver, Index):
        return ev.const_set(receiver.key, frame)
    if isinstance(receiver, Call) and receiver.args:
        return ev.const_set(receiver.args[0], frame)
    return None


def _table_atoms(ev: Evaluator, sink: Sink, frame: Frame | None) -> tuple[list[Atom], str]:
    tasks = ev.pack.tasks
    names = table_names(ev, sink, frame)
    if not names or tasks.table.lower() not in {n.lower() for n in names} or sink.data is None:
        return [], ""
    records = ev.elements(sink.data, frame) if sink.method.endswith("_all") else [sink.data]
    atoms: list[Atom] = []
    for record in records:
        for struct in ev.structures(record, frame):
            if isinstance(struct, DictLit):
                atoms += _column_values(ev, struct, tasks.status, frame)
    return atoms, f"{tasks.table}.{tasks.status} (sqlite-utils {sink.method})"


def _column_values(ev: Evaluator, record: DictLit, column: str, frame: Frame | None) -> list[Atom]:
    """The values a record gives a column: its keys are column names, in any case."""
    atoms: list[Atom] = []
    for key, value in record.items:
        keys = ev.const_set(key, frame)
        if keys is None or column.lower() in {k.lower() for k in keys}:
            atoms += ev.values(value, frame)
    return atoms


def mentions_param(expr: object, func: str) -> bool:
    """Whether an expression (or a hole's) depends on a parameter of `func`."""
    if isinstance(expr, Param):
        return expr.func == func
    if isinstance(expr, Hole):
        return expr.frame is None and mentions_param(expr.expr, func)
    if isinstance(expr, tuple):
        return any(mentions_param(item, func) for item in expr)
    if hasattr(expr, "__dataclass_fields__"):
        return any(mentions_param(getattr(expr, f), func) for f in expr.__dataclass_fields__)
    return False
