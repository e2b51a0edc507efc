"""What one write stores in the guarded column, as atoms.

SQL writes: the texts the SQL may have, parsed for the columns they write
(sql.py); each value written to the status column is a literal, a
placeholder bound from the parameters, or a hole in the text. sqlite-utils
writes: the table the receiver names and the record's status key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve import columns
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
    column = tasks.status.lower()
    atoms: list[Atom] = []
    note = ""
    for template in ev.strings(sink.target, frame):
        text, holes = marked_text(template)
        if tasks.table.lower() not in text.lower():
            continue
        for effect in parse_writes(text):
            key = holes[effect.column_hole] if effect.column_hole >= 0 else None
            if effect.table != tasks.table.lower():
                continue
            if effect.fragment and key is not None:
                note = f"{tasks.table}.{tasks.status} ({effect.statement}, a part not known here)"
                atoms.append(columns.fragment(key, column))
                continue
            named = effect.column == column if key is None else columns.may_name(ev, key, column)
            if not named:
                continue
            keyed = ", its column named by a key" if key else ""
            note = f"{tasks.table}.{tasks.status} ({effect.statement}{keyed})"
            found: list[Atom] = []
            for value in effect.values:
                if value.kind == "literal":
                    found.append(Atom("const", str(value.value)))
                elif value.kind == "hole":
                    hole = holes[int(value.value)]
                    found += ev.values(hole.expr, hole.frame)
                elif value.kind == "named_hole":
                    found += _named_by_hole(ev, sink, holes[int(value.value)], key, frame)
                elif value.uncertain:
                    found.append(Atom("unknown", "placeholder position depends on built SQL"))
                else:
                    found += _param_values(ev, sink, value.kind, value.value, frame)
            if key is not None:
                found = columns.through_key(ev, key, column, found)
                found += columns.matching(ev, key, column)
            atoms += found
    return atoms, note


def _named_by_hole(
    ev: Evaluator, sink: Sink, name: Hole, key: Hole | None, frame: Frame | None
) -> list[Atom]:
    """The values bound to a placeholder whose name is a hole (`:{k}`)."""
    names = columns.placeholder_names(ev, name, key, ev.pack.tasks.status.lower())
    if names is None:
        return [Atom("unknown", f"a placeholder named by one of {columns.keys_of(ev, name)}")]
    return [a for n in names for a in _param_values(ev, sink, "named", n, frame)]


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
    if not names or tasks.table not in names or sink.data is None:
        return [], ""
    records = ev.elements(sink.data, frame) if sink.method.endswith("_all") else [sink.data]
    atoms: list[Atom] = []
    for record in records:
        for struct in ev.structures(record, frame):
            if isinstance(struct, (DictLit, Param)):  # a parameter's item: at each call site
                atoms += ev.index_values(Index(struct, Lit(tasks.status)), frame)
    return atoms, f"{tasks.table}.{tasks.status} (sqlite-utils {sink.method})"
