"""Django forms and the admin: a ModelForm or a ModelAdmin whose editable fields include
the status field lets a user write any of its choices (orm.py names the spellings).

A ModelForm edits `Meta.fields` (or every field but `Meta.exclude`); a ModelAdmin edits
`fields` (every field when unset) but `exclude` and `readonly_fields`, and its
`list_editable` ones, unless its `has_add_permission` and `has_change_permission`
both return False.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter import orm
from kanban_audit.linter.values import Call, Expr, Lit, Ref, Sink

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator
    from kanban_audit.linter.solve.index import ProgramIndex


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
    fields, exclude, readonly, listed = (_names(ev, form, key) for key in orm.ADMIN_FIELDS)
    in_form = (fields is None or field in fields) and field not in (exclude or ())
    if field in (listed or ()) or (in_form and field not in (readonly or ())):
        return target.args[0]
    return None


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
