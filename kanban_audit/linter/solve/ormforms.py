"""Django forms and the admin: a ModelForm or a ModelAdmin whose editable fields include
the status field lets a user write any of its choices (orm.py names the spellings).

A ModelForm edits `Meta.fields` (or every field but `Meta.exclude`). A ModelAdmin edits
its `list_editable` fields, and the fields its change form shows but `exclude` and its
read-only ones, unless its `has_add_permission` and `has_change_permission` both return
False. The form shows what Django asks for: `get_fieldsets()` if overridden, else
`fieldsets` (the fields each fieldset's options list), else `get_fields()` if
overridden, else `fields`, else every field; an override's returns are read like the
attribute. Read-only are `get_readonly_fields()`'s returns if overridden, else
`readonly_fields`. A list with a member not known here may show the field; only the
names known make a field read-only or excluded.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kanban_audit.linter import orm
from kanban_audit.linter.values import Call, DictLit, Expr, Lit, Ref, Seq, Sink, Star

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator
    from kanban_audit.linter.solve.index import ProgramIndex

# Tuples inside a list of fields (fields shown on one line) read this deep.
MAX_NESTING = 3


def edited_model(ev: Evaluator, sink: Sink) -> Expr | None:
    """The model a Django ModelForm or ModelAdmin lets a user edit the status field
    of; None when the class is neither, or does not edit the field."""
    target = sink.target
    if not isinstance(target, Call) or not isinstance(target.func, Ref) or not target.args:
        return None
    form = target.func.qual
    kind = _form_kind(ev.index, form)
    if not kind:
        return None
    field = ev.pack.tasks.status
    if kind == "form":
        fields, exclude = (_names(ev, form, key) for key in orm.FORM_FIELDS)
        chosen = fields is not None and (field in fields or orm.ALL_FIELDS in fields)
        if not (chosen or (fields is None and exclude is not None)) or field in (exclude or ()):
            return None
        return Ref(f"{form}.{orm.FORM_MODEL}")
    if all(_refuses(ev.index, form, name) for name in orm.ADMIN_PERMISSIONS):
        return None
    listed = _listing(ev, form, orm.ADMIN_LIST_EDITABLE)
    if field in listed.names or not listed.complete:
        return target.args[0]
    shown = _shown(ev, form)
    in_form = shown is None or field in shown.names or not shown.complete
    hidden = (
        _listing(ev, form, orm.ADMIN_EXCLUDE).names | _listing(ev, form, orm.ADMIN_READONLY).names
    )
    return target.args[0] if in_form and field not in hidden else None


@dataclass(frozen=True)
class Listing:
    """The field names a list holds, and whether every member of it is known."""

    names: frozenset[str] = frozenset()
    complete: bool = True

    def __or__(self, other: Listing) -> Listing:
        return Listing(self.names | other.names, self.complete and other.complete)


_NOT_KNOWN = Listing(complete=False)


def _shown(ev: Evaluator, form: str) -> Listing | None:
    """The fields an admin's change form shows (None: every field)."""
    kinds = dict(orm.ADMIN_SHOWN)
    exprs, name = _defined(ev, form, tuple(kinds))
    if not name:
        return None
    read = _fieldsets if kinds[name] else _listed
    return _union([read(ev, expr) for expr in exprs])


def _listing(ev: Evaluator, form: str, names: tuple[str, ...]) -> Listing:
    """The fields the first of these an admin defines lists (none when it defines none)."""
    exprs, name = _defined(ev, form, names)
    return _union([_listed(ev, expr) for expr in exprs]) if name else Listing()


def _defined(ev: Evaluator, form: str, names: tuple[str, ...]) -> tuple[list[Expr], str]:
    """The first of these an admin defines (a method overriding Django's: what it
    returns; an attribute: its value; its own or a base's), and its name."""
    index = ev.index
    for name in names:
        member = index.class_member(form, name)
        if member is not None and member[0] == "function":
            return list(index.functions[member[1]].returns), name
        if member is not None and member[0] == "global":
            return [index.globals[member[1]]], name
    return [], ""


def _union(listings: list[Listing]) -> Listing:
    return functools.reduce(operator.or_, listings) if listings else _NOT_KNOWN


def _fieldsets(ev: Evaluator, expr: Expr) -> Listing:
    """The fields `[(title, {"fields": [...]}), ...]` lists."""
    found = Listing()
    for fieldset in ev.elements(expr, None):
        for struct in ev.structures(fieldset, None):
            pair = isinstance(struct, Seq) and len(struct.items) == 2
            options = ev.structures(struct.items[1], None) if pair else [struct]  # type: ignore[union-attr]
            for option in options:
                found |= _fieldset_options(ev, option)
    return found


def _fieldset_options(ev: Evaluator, options: Expr) -> Listing:
    if not isinstance(options, DictLit):
        return _NOT_KNOWN
    found = Listing()
    for key, value in options.items:
        keys = None if isinstance(key, Star) else ev.const_set(key, None)
        if keys is None:
            found |= _NOT_KNOWN
        elif orm.FIELDSET_FIELDS in keys:
            found |= _listed(ev, value)
    return found


def _listed(ev: Evaluator, expr: Expr, depth: int = 0) -> Listing:
    """The names a list of fields holds, nested tuples (one line of a form) too."""
    found = Listing()
    for struct in ev.structures(expr, None):
        if isinstance(struct, Seq) and depth < MAX_NESTING:
            for item in ev.elements(struct, None):
                found |= _listed(ev, item, depth + 1)
            continue
        atoms = ev.values(struct, None)
        found |= Listing(
            frozenset(a.value for a in atoms if a.kind == "const"),
            bool(atoms) and all(a.kind == "const" for a in atoms),
        )
    return found


def _form_kind(index: ProgramIndex, cls: str) -> str:
    """ "form" for a ModelForm, "admin" for a ModelAdmin (through analysed bases)."""
    for owner in index.ancestors(cls):
        summary = index.classes.get(owner)
        for base in summary.bases if summary else ():
            name = base.qual.rsplit(".", 1)[-1] if isinstance(base, Ref) else ""
            if name in orm.FORM_BASES:
                return "form"
            if name in orm.ADMIN_BASES:
                return "admin"
    return ""


def _names(ev: Evaluator, cls: str, key: str) -> frozenset[str] | None:
    """The field names a class attribute lists (its own or a base's); None if unset."""
    for owner in ev.index.ancestors(cls):
        value = ev.index.globals.get(f"{owner}.{key}")
        if value is not None:
            if isinstance(value, Lit) and isinstance(value.value, str):
                return frozenset({value.value})
            return ev.const_set(value, None) or frozenset({orm.ALL_FIELDS})
    return None


def _refuses(index: ProgramIndex, cls: str, method: str) -> bool:
    """Whether an admin's permission method returns False on every path."""
    member = index.class_member(cls, method)
    if member is None or member[0] != "function":
        return False
    returns = index.functions[member[1]].returns
    return bool(returns) and all(ret == Lit(False) for ret in returns)
