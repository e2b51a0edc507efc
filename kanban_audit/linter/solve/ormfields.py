"""What an ORM model's field accepts and what it stores for the value written.

The field's choices, Enum column or annotation bound the values it accepts. What it
stores is the value written, except in a column over a Python Enum class whose
library stores the member's name (orm.py: SQLAlchemy's Enum(Status) unless
`values_callable` says otherwise, SQLAlchemy 2.x `Mapped[Status]` and SQLModel's
Enum fields, which build that same type). The lint reads a member as its value
(`Status.RUNNING` is "running", as Python compares it), so such a write stores each
member's name instead: "RUNNING". SQLAlchemy looks a text up among the members too,
so a text equal to a member's value is taken as that member, and a member's name is
stored as itself. The pack's guarded state is the stored text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kanban_audit.linter import orm
from kanban_audit.linter.solve import models, ormmodels
from kanban_audit.linter.solve.atoms import Atom, narrow, open_expr
from kanban_audit.linter.values import (
    Attr,
    Call,
    Comp,
    Elem,
    Expr,
    Lambda,
    Lit,
    Persisted,
    Ref,
    Seq,
    walk,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

# Written text -> stored text, for the texts stored otherwise (none: as written).
Texts = tuple[tuple[str, str], ...]
AS_WRITTEN: Texts = ()


@dataclass(frozen=True)
class Storage:
    """The texts a field accepts as written (None: any), and each way it may store
    them (two when a `values_callable` is not read)."""

    accepts: frozenset[str] | None
    stores: tuple[Texts, ...] = (AS_WRITTEN,)


def field_storage(ev: Evaluator, classes: set[str], field: str) -> Storage:
    """The field of every one of these classes: any text one accepts, any way one
    stores it."""
    found = [_class_storage(ev, cls, field) for cls in sorted(classes)]
    if not found:
        return Storage(None)
    accepted = [s.accepts for s in found]
    accepts = None if None in accepted else frozenset().union(*accepted)  # type: ignore[arg-type]
    return Storage(accepts, tuple(dict.fromkeys(t for s in found for t in s.stores)))


def stored(atoms: list[Atom], storage: Storage) -> list[Atom]:
    """The values written, bounded by what the field accepts, as it stores them."""
    kept = [k for atom in atoms for k in narrow(atom, storage.accepts, frozenset())]
    return list(dict.fromkeys(as_stored(a, texts) for texts in storage.stores for a in kept))


def as_stored(atom: Atom, texts: Texts) -> Atom:
    """One value as the column stores it, its guards too; a parameter is read so at
    each call site (and a value entering where no call passes one is bounded so)."""
    if not texts:
        return atom
    table = dict(texts)

    def mapped(values: frozenset[str]) -> frozenset[str]:
        return frozenset(table.get(v, v) for v in values)

    allow = None if atom.allow is None else mapped(atom.allow)
    if atom.kind == "const":
        return replace(atom, value=table.get(atom.value, atom.value))
    if atom.kind == "unknown":
        return replace(atom, allow=allow, deny=mapped(atom.deny))
    expr = Persisted(open_expr(atom), texts)
    return replace(atom, expr=expr, allow=allow, deny=mapped(atom.deny))


def _class_storage(ev: Evaluator, cls: str, field: str) -> Storage:
    """The field as the class or its nearest base declares it: its column first (a
    value with choices or an Enum type), else its annotation."""
    index = ev.index
    for owner in index.ancestors(cls):
        summary = index.classes.get(owner)
        if summary is None:
            continue
        declared = dict(summary.fields).get(field)
        column = index.globals.get(f"{owner}.{field}")
        if column is not None:
            found = _column_storage(ev, column)
            if found is not None:
                return found
        if declared is not None:
            accepts = models.bound(ev, declared)
            typed = column is not None and _names_type(column)
            enum = None if typed else _enum_class(ev, declared)
            if enum is None:
                return Storage(accepts)
            stores = orm.ENUM_STORES.get(ormmodels.library(index, cls), "value")
            return _enum_storage(ev, enum, (stores,), accepts)
    return Storage(None)


def _column_storage(ev: Evaluator, column: Expr) -> Storage | None:
    """`choices=` (Django, peewee), an `Enum(...)` column type (SQLAlchemy): over a
    Python Enum class, or the allowed texts."""
    for part in walk(column):
        if not isinstance(part, Call):
            continue
        kw = dict(part.kwargs)
        if "choices" in kw:
            return Storage(ormmodels.choices(ev, kw["choices"]))
        if not (isinstance(part.func, Ref) and part.args):
            continue
        qual = part.func.qual
        if qual.rsplit(".", 1)[-1] not in orm.ENUM_TYPES or not orm.library_of(qual):
            continue
        if len(part.args) == 1 and isinstance(part.args[0], Ref):
            enum = _enum_class(ev, part.args[0])
            accepts = models.bound(ev, part.args[0])
            if enum is None:
                return Storage(accepts)
            default = orm.ENUM_STORES.get(orm.library_of(qual), "value")
            given = kw.get(orm.VALUES_CALLABLE)
            stores = (default,) if given is None else _read(ev, given)
            return _enum_storage(ev, enum, stores, accepts)
        return Storage(ev.const_set(Seq(part.args), None))
    return None


def _enum_storage(
    ev: Evaluator, enum: str, stores: tuple[str, ...], accepts: frozenset[str] | None
) -> Storage:
    """A column over an Enum class storing, for each member, the attribute named (a
    column storing names accepts them written too)."""
    members = _members(ev, enum)
    by_name = tuple((value, name) for name, value in members if value != name)
    texts = tuple(by_name if attribute == "name" else AS_WRITTEN for attribute in stores)
    if accepts is not None and "name" in stores:
        accepts = accepts | {name for name, _ in members}
    return Storage(accepts, tuple(dict.fromkeys(texts)))


def _members(ev: Evaluator, enum: str) -> list[tuple[str, str]]:
    """(name, value) of each member whose value is a constant."""
    prefix = f"{enum}."
    found: list[tuple[str, str]] = []
    for qual, value in ev.index.globals.items():
        name = qual[len(prefix) :]
        if qual.startswith(prefix) and "." not in name:
            atoms = ev.values(value, None)
            if len(atoms) == 1 and atoms[0].kind == "const":
                found.append((name, atoms[0].value))
    return found


def _read(ev: Evaluator, given: Expr) -> tuple[str, ...]:
    """The member attribute a `values_callable` returns for each member (a lambda or a
    function of the analysed code returning `[m.value for m in e]`); both when it
    cannot be read."""
    read: set[str | None] = set()
    for struct in ev.structures(given, None):
        if isinstance(struct, Lambda):
            read.add(_member_attribute(struct.body))
            continue
        target = ev.index.resolve(struct.qual) if isinstance(struct, Ref) else None
        fn = ev.index.functions.get(target[1]) if target and target[0] == "function" else None
        returns = fn.returns if fn is not None else [None]
        read |= {_member_attribute(r) if r is not None else None for r in returns}
    if len(read) == 1 and None not in read:
        return (read.pop(),)  # type: ignore[return-value]
    return orm.MEMBER_TEXTS


def _member_attribute(body: Expr) -> str | None:
    """`[m.value for m in e]` (or `str(m.value)`) gives "value"; None for anything else."""
    if not isinstance(body, Comp):
        return None
    elt = body.elt
    while isinstance(elt, Call) and isinstance(elt.func, Ref) and len(elt.args) == 1:
        if elt.func.qual != "builtins.str":
            return None
        elt = elt.args[0]
    is_member = isinstance(elt, Attr) and isinstance(elt.base, Elem)
    return elt.name if is_member and elt.name in orm.MEMBER_TEXTS else None  # type: ignore[union-attr]


def _enum_class(ev: Evaluator, declared: Expr) -> str | None:
    """The Python Enum class an annotation or a column's argument names."""
    for part in walk(declared):
        target = ev.index.resolve(part.qual) if isinstance(part, Ref) else None
        if target and target[0] == "class" and ev.index.classes[target[1]].is_enum:
            return target[1]
    return None


def _names_type(column: Expr) -> bool:
    """Whether a column names its own type (`mapped_column(String(20))`,
    `Field(sa_column=...)`): an annotation's Enum then makes no Enum column."""
    for part in walk(column):
        if not (isinstance(part, Call) and isinstance(part.func, Ref)):
            continue
        if any(keyword in orm.TYPE_KEYWORDS for keyword, _ in part.kwargs):
            return True
        positional = part.func.qual.rsplit(".", 1)[-1] in orm.TYPED_BY_POSITION
        if positional and any(not isinstance(arg, Lit) for arg in part.args):
            return True
    return False
