"""What one write stores in the guarded column, as atoms.

SQL writes: the texts the SQL may have, parsed for the columns they write
(sql.py); each value written to the status column is a literal, a
placeholder bound from the parameters, or a hole in the text. sqlite-utils
writes: the table the receiver names and the record's status key. ORM
writes: the classes the target is about (solve/ormmodels.py) and each
record's status field, bounded by the field's choices.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import TYPE_CHECKING

from kanban_audit.linter import orm, tablenames
from kanban_audit.linter.solve import (
    columns,
    functions,
    models,
    ormfields,
    ormforms,
    ormmodels,
    ormsessions,
    schema,
    unknown_table,
)
from kanban_audit.linter.solve.atoms import Atom, Frame, Hole, narrow
from kanban_audit.linter.solve.templates import (
    MAX_TEMPLATES,
    could_be,
    cut_reason,
    marked_text,
)
from kanban_audit.linter.sql import (
    ANY_COLUMN,
    HOLE_OPEN,
    TABLE_NOT_KNOWN,
    WriteEffect,
)
from kanban_audit.linter.sqlvalues import SqlValue, apply_text
from kanban_audit.linter.values import (
    Attr,
    Call,
    Concat,
    DictLit,
    Elem,
    Index,
    Lit,
    Param,
    Seq,
    Sink,
    Star,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator


def sink_atoms(ev: Evaluator, sink: Sink, frame: Frame | None, qual: str) -> tuple[list[Atom], str]:
    """The values one write (in function `qual`) can store in the guarded column, and
    what it writes ("" when it does not write the column)."""
    if sink.kind == "table":
        return _table_atoms(ev, sink, frame)
    if sink.kind == "orm":
        return _orm_atoms(ev, sink, frame, qual)
    tasks = ev.pack.tasks
    column = tasks.status.lower()
    orders = schema.column_orders(ev.index, ev.pack)
    atoms: list[Atom] = []
    unnamed: list[tuple[WriteEffect, list[Atom]]] = []  # writes of a table not known here
    note = ""
    for template in ev.strings(sink.target, frame):
        if reason := cut_reason(template):
            atoms.append(Atom("unknown", reason))
            note = note or f"{tasks.shown}.{tasks.status}, if it writes it"
            continue
        text, holes = marked_text(template)
        called = functions.called_writes(ev, text, orders)
        if not holes and not called and tasks.table_text not in text.lower():
            continue
        for effect in ev.writes(text, orders) + called:
            verdict = tablenames.judge(effect.table, tasks.table.lower())
            if HOLE_OPEN in effect.table and verdict == tablenames.EVERY:
                effect = replace(effect, table=tablenames.shown(effect.table))
            elif HOLE_OPEN in effect.table and verdict == tablenames.SOME:
                effect = replace(effect, table=TABLE_NOT_KNOWN)
            if effect.table == TABLE_NOT_KNOWN:
                if unknown_table.writes_status(tasks, effect):
                    found = written_atoms(ev, sink, effect.values, holes, None, frame)
                    unnamed.append((effect, found))
                    note = note or unknown_table.note(tasks, effect)
                continue
            if verdict == tablenames.NONE:
                continue
            shown = effect.table if tasks.table_is_pattern else tasks.table
            key = holes[effect.column_hole] if effect.column_hole >= 0 else None
            if effect.fragment and key is not None:
                note = f"{shown}.{tasks.status} ({effect.statement}, a part not known here)"
                atoms.append(columns.fragment(key, column))
                continue
            if key is None:
                named = effect.column in (column, ANY_COLUMN)
            else:
                named = columns.may_name(ev, key, column)
            if not named:
                continue
            keyed = ", its column named by a key" if key else ""
            note = f"{shown}.{tasks.status} ({effect.statement}{keyed})"
            found = written_atoms(ev, sink, effect.values, holes, key, frame)
            if key is not None:
                found = columns.through_key(ev, key, column, found)
                found += columns.matching(ev, key, column)
            atoms += found
    judged = [
        a for effect, found in unnamed for a in unknown_table.judged(tasks, effect, found, atoms)
    ]
    return atoms + judged, note


def written_atoms(
    ev: Evaluator,
    sink: Sink,
    values: tuple[SqlValue, ...],
    holes: list[Hole],
    key: Hole | None,
    frame: Frame | None,
) -> list[Atom]:
    """The atoms the values one effect writes can be."""
    found: list[Atom] = []
    for value in values:
        if value.kind == "named_hole":
            found += _named_by_hole(ev, sink, holes[int(value.value)], key, frame)
        else:
            found += _sql_value_atoms(ev, sink, value, holes, frame)
    return found


def _named_by_hole(
    ev: Evaluator, sink: Sink, name: Hole, key: Hole | None, frame: Frame | None
) -> list[Atom]:
    """The values bound to a placeholder whose name is a hole (`:{k}`)."""
    names = columns.placeholder_names(ev, name, key, ev.pack.tasks.status.lower())
    if names is None:
        return [Atom("unknown", f"a placeholder named by one of {columns.keys_of(ev, name)}")]
    return [a for n in names for a in _param_values(ev, sink, "named", n, frame)]


def _sql_value_atoms(
    ev: Evaluator, sink: Sink, value: SqlValue, holes: list[Hole], frame: Frame | None
) -> list[Atom]:
    """The atoms one value written by SQL can be."""
    if value.kind == "literal":
        return [Atom("const", str(value.value))]
    if value.kind == "unknown":
        return [Atom("unknown", str(value.value))]
    if value.kind == "hole":
        hole = holes[int(value.value)]
        return ev.values(hole.expr, hole.frame)
    if value.kind == "narrowed":
        inner = [
            a for item in value.parts[0] for a in _sql_value_atoms(ev, sink, item, holes, frame)
        ]
        return [kept for atom in inner for kept in narrow(atom, value.allow, value.deny)]
    if value.kind in ("concat", "apply"):
        parts = [
            [atom for item in part for atom in _sql_value_atoms(ev, sink, item, holes, frame)]
            for part in value.parts
        ]
        if value.kind == "concat":
            return joined(parts, ev.pack.tasks.guarded)
        return [applied(str(value.value), atom, value.args) for atom in parts[0]]
    if value.uncertain:
        return [Atom("unknown", "placeholder position depends on built SQL")]
    return _param_values(ev, sink, value.kind, value.value, frame)


def joined(parts: list[list[Atom]], guarded: str) -> list[Atom]:
    """`a || b` in SQL: constants joined; a part not known here makes the text unknown
    (that cannot be the guarded state when the known parts rule it out)."""
    combos = list(itertools.islice(itertools.product(*parts), MAX_TEMPLATES + 1))
    if len(combos) > MAX_TEMPLATES:
        return [Atom("unknown", "too many texts joined in SQL")]
    atoms: list[Atom] = []
    for combo in combos:
        open_parts = [atom for atom in combo if atom.kind != "const"]
        chain = next((atom.chain for atom in combo if atom.chain), ())
        if not open_parts:
            atoms.append(Atom("const", "".join(atom.value for atom in combo), chain=chain))
        elif len(open_parts) == 1 and all(a.value == "" for a in combo if a.kind == "const"):
            atoms.append(open_parts[0])
        else:
            template = tuple(a.value if a.kind == "const" else None for a in combo)
            deny = frozenset() if could_be(template, guarded) else frozenset([guarded])
            reason = "text joined in SQL from values not known here"
            atoms.append(Atom("unknown", reason, deny=deny, chain=chain))
    return atoms


def applied(name: str, atom: Atom, args: tuple[str | int, ...]) -> Atom:
    """An SQL text function (lower, trim, substr, replace...) applied to one value."""
    if atom.kind == "const":
        text = apply_text(name, atom.value, args)
        return replace(atom, value=text) if text is not None else Atom("unknown", name.lower())
    what = atom.value if atom.kind == "unknown" else f"parameter `{atom.value}`"
    return Atom("unknown", f"{name.lower()}() in SQL of {what}", chain=atom.chain)


def _param_values(
    ev: Evaluator, sink: Sink, kind: str, key: str | int, frame: Frame | None
) -> list[Atom]:
    """The values bound to one placeholder from the write's parameters.

    `$n` is the n-th argument after the SQL (asyncpg): the recogniser gathers
    them into one sequence when there are several; a single one is the value.
    """
    if sink.data is None:
        return []
    many = sink.method == "executemany"
    if kind == "arg":
        kind = "param"
        if not many and not isinstance(sink.data, Seq):
            sink = replace(sink, data=Seq((sink.data,)))
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
    if not names or not any(tasks.names_table(n.lower()) for n in names) or sink.data is None:
        return [], ""
    records = ev.elements(sink.data, frame) if sink.method.endswith("_all") else [sink.data]
    atoms: list[Atom] = []
    for record in records:
        for struct in ev.structures(record, frame):
            if isinstance(struct, DictLit):
                atoms += _column_values(ev, struct, tasks.status, frame)
            elif isinstance(struct, Param):  # a parameter's item: at each call site
                atoms += ev.index_values(Index(struct, Lit(tasks.status)), frame)
    return atoms, f"{tasks.table}.{tasks.status} (sqlite-utils {sink.method})"


def _column_values(ev: Evaluator, record: DictLit, column: str, frame: Frame | None) -> list[Atom]:
    """The values a record gives a column: its keys are column names, in any case (a
    key bounded by a guard names only what the guard lets through); a spread mapping
    (`{**data.model_dump()}`, `Task(**data)`) gives its own item."""
    atoms: list[Atom] = []
    for key, value in record.items:
        if isinstance(key, Star):
            atoms += ev.index_values(ev.item(key.expr, Lit(column)), frame)
            continue
        if columns.may_name(ev, Hole(key, frame), column.lower()):
            atoms += ev.values(value, frame)
    return atoms


# Values that hold no record: a text, a number, a list of names (`values("id")`).
_NO_RECORD = (Lit, Concat, Seq)
# Writes whose target is an instance: their field is named, whatever the object.
_ON_INSTANCE = ("attribute", "setattr")
# How a finding names each ORM write.
_ORM_SPELLINGS = {
    "attribute": "assigned",
    "setattr": "setattr()",
    "construct": "constructor",
    orm.EDITED: "a form or the admin edits it",
}


def _orm_atoms(ev: Evaluator, sink: Sink, frame: Frame | None, qual: str) -> tuple[list[Atom], str]:
    """An ORM write of the tasks model: the values its records give the status field.
    A target whose class is not known here counts when the program has a tasks model;
    an instance built here counts once it reaches the database."""
    tasks_models = ormmodels.tasks_models(ev)
    if not tasks_models or sink.data is None:
        return [], ""
    target = sink.target
    if sink.method == orm.EDITED:
        target = ormforms.edited_model(ev, sink)
        if target is None:
            return [], ""
    if sink.method == "construct":  # a call of a name: a model is an analysed class
        written = ormmodels.constructed(ev, target)
    else:
        written = ormmodels.written_classes(ev, target, frame)
    spec = orm.WRITE_METHODS.get(sink.method)
    if written is None and spec is not None and spec.on_class:
        return [], ""
    if written is not None and not written & tasks_models:
        return [], ""
    if sink.method in orm.BUILDS and not ormsessions.persisted(ev, qual, sink):
        return [], ""
    field = ev.pack.tasks.status
    records = ev.elements(sink.data, frame)
    if written is None and sink.method not in _ON_INSTANCE and isinstance(sink.data, Seq):
        # A method called on something not known here counts for the fields its call
        # names itself (`qs.update(status=x)`), not for any argument (`os.replace(a, b)`).
        records = [item for item in sink.data.items if isinstance(item, DictLit)]
    atoms: list[Atom] = []
    for item in records:
        structs = ev.structures(item, frame)
        # `insert(Task).values([{...}, {...}])`: a list of records, one row each.
        structs = [
            r for s in structs for r in (ev.elements(s, frame) if isinstance(s, Seq) else [s])
        ]
        for struct in [r for s in structs for r in ev.structures(s, frame)]:
            if isinstance(struct, DictLit):
                atoms += _column_values(ev, ormmodels.record(ev, struct), field, frame)
            elif models.instance_models(ev, struct):
                atoms += ev.values(Attr(struct, field), frame)
            elif not isinstance(struct, _NO_RECORD):
                atoms += ev.index_values(Index(struct, Lit(field)), frame)
    about = sorted(written & tasks_models) if written else sorted(tasks_models)
    atoms = ormfields.stored(atoms, ormfields.field_storage(ev, set(about), field))
    how = _ORM_SPELLINGS.get(sink.method, f"{sink.method}()")
    # A model's subclasses write its table: the write is named for the model.
    roots = [c for c in about if not any(a in about for a in ev.index.ancestors(c) if a != c)]
    model = roots[0].rsplit(".", 1)[-1] if len(roots) == 1 else "the tasks model"
    return atoms, f"{model}.{field} ({how})"
