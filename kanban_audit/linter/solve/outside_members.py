"""Members of a states class defined outside the analysed code, told apart by name.

Django's `TaskResultStatus` (a `TextChoices` of `django.tasks.base`) is not in
the analysed code, so what `TaskResultStatus.SUCCESSFUL` stores is not known
here: a choices member stores what its class body assigns, the member's name
only for `auto()`. Yet when the tasks model's status field takes its values from
that class (`choices=Cls.choices`, an `Enum(Cls)` column, a `Cls` annotation),
its members are the field's states, one each; the pack's guarded state, read as
a member name (`running` is `RUNNING`, `in progress` is `IN_PROGRESS`), is the
member that stores it. A member of another name is another state: its value is
still not known, but it is not the guarded state. The member so named, any
other spelling (`Cls[x]`, `Cls(x)`) and a class the field is not declared with
stay values not known here (KA002). Aliases (two names, one value) are the one
way this is wrong; a states class does not declare them.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from kanban_audit.linter import orm
from kanban_audit.linter.solve import ormmodels
from kanban_audit.linter.solve.atoms import Atom
from kanban_audit.linter.values import Call, Expr, OneOf, Ref, walk

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator
    from kanban_audit.linter.solve.index import ProgramIndex

# Imports followed from one module to the next before a name is taken as it is.
MAX_HOPS = 16
_MEMBER = re.compile(r"[A-Z][A-Z0-9_]*")
_SEPARATORS = re.compile(r"\W+")
# What a member is read as besides itself.
_VALUE = ".value"
# A Django choices class's list of (value, label) pairs.
_CHOICES = "choices"
_MEMO = ("outside_members", 0, 0)


def member_atom(ev: Evaluator, qual: str) -> Atom:
    """What a name outside the analysed code may be: a member of the status field's
    states class other than the guarded state's excludes it; any other name is a value
    not known here."""
    atom = Atom("unknown", f"`{qual}` (not in the analysed code)")
    member = qual.removesuffix(_VALUE)
    name = member.rpartition(".")[2]
    guarded = member_name(ev.pack.tasks.guarded)
    if not _MEMBER.fullmatch(name) or guarded is None or name.casefold() == guarded:
        return atom
    classes = field_classes(ev)
    if not classes or outside_name(ev.index, member).rpartition(".")[0] not in classes:
        return atom
    return replace(atom, deny=frozenset({ev.pack.tasks.guarded}))


def member_name(state: str) -> str | None:
    """The member name a state has by convention (case folded), if it can have one."""
    name = _SEPARATORS.sub("_", state).strip("_").casefold()
    return name if name.isidentifier() else None


def field_classes(ev: Evaluator) -> frozenset[str]:
    """The classes outside the analysed code the tasks models' status field takes its
    values from, by the name they are imported under where they leave it (worked
    out once per evaluation)."""
    return ev.remembered(ev.ctx.memo, _MEMO, lambda: _field_classes(ev))


def _field_classes(ev: Evaluator) -> frozenset[str]:
    index = ev.index
    field = ev.pack.tasks.status
    found: set[str] = set()
    for model in ormmodels.tasks_models(ev):
        for owner in index.ancestors(model):
            column = index.globals.get(f"{owner}.{field}")
            summary = index.classes.get(owner)
            declared = dict(summary.fields).get(field) if summary is not None else None
            for named in _declared_with(column) + _annotated(declared):
                if index.resolve(named) is None:
                    found.add(outside_name(index, named))
    return frozenset(found)


def _declared_with(column: Expr | None) -> list[str]:
    """`choices=Cls.choices` (Django), `Enum(Cls)` (SQLAlchemy) in a field's column."""
    names: list[str] = []
    for part in walk(column) if column is not None else ():
        if not isinstance(part, Call):
            continue
        given = dict(part.kwargs).get(_CHOICES)
        if isinstance(given, Ref):  # `Cls.choices`, or the class itself (Django 5)
            names.append(given.qual.removesuffix(f".{_CHOICES}"))
        is_ref = isinstance(part.func, Ref) and len(part.args) == 1
        if is_ref and part.func.qual.rsplit(".", 1)[-1] in orm.ENUM_TYPES:  # type: ignore[union-attr]
            names += [arg.qual for arg in part.args if isinstance(arg, Ref)]
    return names


def _annotated(declared: Expr | None) -> list[str]:
    """`status: Cls`, `status: Mapped[Cls]`, `Cls | None`."""
    if isinstance(declared, OneOf):
        return [name for option in declared.options for name in _annotated(option)]
    return [declared.qual] if isinstance(declared, Ref) else []


def outside_name(index: ProgramIndex, qual: str) -> str:
    """The name a qualified name has where it leaves the analysed code: each import
    on the way followed (`app.models.Status` imported from `app.compat`, which
    imports it from `django.tasks.base`, is `django.tasks.base.Status`)."""
    for _ in range(MAX_HOPS):
        parts = qual.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            target = index.resolve(".".join(parts[:cut]))
            if target is None:
                continue
            imports = index.modules[target[1]].imports if target[0] == "module" else {}
            if parts[cut] not in imports:
                return qual
            qual = ".".join([imports[parts[cut]], *parts[cut + 1 :]])
            break
        else:
            return qual
    return qual
