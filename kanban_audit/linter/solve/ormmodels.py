"""ORM models: which analysed class is the tasks table, which class a write is about,
and how a record names its fields (the spellings are data in orm.py).

The tasks model is the class the pack names (`[tasks] model`, a class name or a
glob over the qualified name), else every model class whose mapping names the
pack's table: SQLAlchemy and SQLModel `__tablename__` (SQLModel's default, the
class name in lower case), Django `Meta.db_table` or `<app_label>_<model>`, peewee
`Meta.table_name` or the class name in lower case. An SQLModel class is a table
only when its class statement says `table=True`. A write is about the classes
its target may be an instance, a query or a statement of; an object whose class
is not known here counts as the tasks model when the program has one (it is
never shown to be another class). What a field holds is solve/ormfields.py's.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from kanban_audit.linter import orm
from kanban_audit.linter.solve import receivers
from kanban_audit.linter.solve.atoms import Frame
from kanban_audit.linter.solve.reads import ORM_MODELS
from kanban_audit.linter.values import (
    Attr,
    Call,
    Comp,
    Concat,
    DictLit,
    Elem,
    Expr,
    Index,
    Lit,
    OneOf,
    Param,
    Ref,
    Seq,
    Star,
    Unknown,
    one_of,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator
    from kanban_audit.linter.solve.index import ProgramIndex

MAX_DEPTH = 6
# Values that are no model instance, query or statement.
_PLAIN = (Lit, Concat, Seq, DictLit, Comp)


def tasks_models(ev: Evaluator) -> frozenset[str]:
    """The analysed classes that are the tasks table (worked out once per program)."""
    index = ev.index
    index.read_fact(ORM_MODELS)
    if index.orm_models is None:
        tasks = ev.pack.tasks
        found = [
            cls
            for cls in index.classes
            if (_named(cls, tasks.model) if tasks.model else _maps_table(ev, cls, tasks.table))
        ]
        tables = [cls for cls in found if _is_table(index, cls)]
        # A subclass writes the fields it inherits to its base's table (Django's
        # multi-table inheritance, SQLAlchemy's joined and single-table inheritance).
        index.orm_models = frozenset(
            tables + [sub for cls in tables for sub in index.subclasses(cls)]
        )
    return index.orm_models


def _is_table(index: ProgramIndex, cls: str) -> bool:
    """Whether a model class is a table: an SQLModel class only with `table=True` in
    its class statement (without it, a pydantic model whose fields write nothing)."""
    keyword = orm.TABLE_KEYWORDS.get(library(index, cls))
    return keyword is None or dict(index.classes[cls].keywords).get(keyword) == Lit(True)


def _named(cls: str, pattern: str) -> bool:
    """The pack's `model`: a class name, or a glob over the qualified name."""
    return fnmatchcase(cls, pattern) or fnmatchcase(cls.rsplit(".", 1)[-1], pattern)


def library(index: ProgramIndex, cls: str, depth: int = 0) -> str:
    """The ORM a class is a model of, through its bases ("" for none)."""
    if depth > MAX_DEPTH or cls not in index.classes:
        return ""
    for base in index.classes[cls].bases:
        found = _library_of(index, base, depth + 1)
        if found:
            return found
    return ""


def _library_of(index: ProgramIndex, base: Expr, depth: int) -> str:
    """The ORM a base expression belongs to: an outside name (`models.Model`), an
    analysed class, or a name bound to what an ORM made (`Base = declarative_base()`,
    `db = SQLAlchemy()` for `db.Model`)."""
    if isinstance(base, Call):
        base = base.func
    if not isinstance(base, Ref):
        return ""
    qual = base.qual
    while qual:
        target = index.resolve(qual)
        if target is None:
            found = orm.library_of(qual)
            if found:
                return found
        elif target[0] == "class":
            return library(index, target[1], depth)
        elif target[0] == "global":
            return _library_of(index, index.globals[target[1]], depth + 1)
        else:
            return ""
        qual = qual.rpartition(".")[0]
    return ""


def _maps_table(ev: Evaluator, cls: str, table: str) -> bool:
    """Whether a class is a model of the table: its names are read first, so that
    the bases of a class that cannot map it are never looked up."""
    if not table:
        return False
    tasks = ev.pack.tasks
    names = {kind: table_names(ev, cls, kind) for kind in orm.TABLE_NAMES}
    if not any(tasks.names_table(name) for found in names.values() for name in found):
        return False
    kind = library(ev.index, cls)
    return bool(kind) and any(tasks.names_table(name) for name in names[kind])


def table_names(ev: Evaluator, cls: str, kind: str) -> set[str]:
    """The table names a model class may map to (lower case)."""
    index = ev.index
    names: set[str] = set()
    for key in orm.TABLE_NAMES[kind]:
        value = index.globals.get(f"{cls}.{key}")
        if value is not None:
            names |= {n.lower() for n in ev.const_set(value, None) or ()}
    if names:
        return names
    if kind == "django":
        return {f"{_app_label(ev, cls)}_{cls.rsplit('.', 1)[-1].lower()}"}
    name = cls.rsplit(".", 1)[-1]
    return {name.lower(), re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()}


def _app_label(ev: Evaluator, cls: str) -> str:
    """Django's app label: `Meta.app_label`, else the package holding `models`."""
    given = ev.index.globals.get(f"{cls}.Meta.app_label")
    label = ev.const_set(given, None) if given is not None else None
    if label and len(label) == 1:
        return next(iter(label)).lower()
    parts = cls.split(".")[:-1]
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] in orm.DJANGO_MODEL_MODULES:
            return parts[i - 1].lower()
    return parts[-2].lower() if len(parts) > 1 else ""


# -- which class a write is about ------------------------------------------------


def written_classes(ev: Evaluator, target: Expr, frame: Frame | None) -> set[str] | None:
    """The classes a write's target is an instance, a query or a statement of; None
    when one of the things it may be is not known here."""
    found: set[str] = set()
    for struct in ev.structures(target, frame):
        classes = _classes(ev, struct, frame, 0)
        if classes is None:
            return None
        found |= classes
    return found


def constructed(ev: Evaluator, func: Expr) -> set[str]:
    """The class a constructor call makes: none for a name outside the analysed code
    (`Q(status=...)`, `dict(status=...)`) or a function."""
    if not isinstance(func, Ref):
        return set()
    target = ev.index.resolve(func.qual)
    return {target[1]} if target is not None and target[0] == "class" else set()


def _classes(ev: Evaluator, expr: Expr, frame: Frame | None, depth: int) -> set[str] | None:
    if depth > MAX_DEPTH:
        return None
    index = ev.index
    if isinstance(expr, _PLAIN):
        return set()
    if isinstance(expr, Ref):
        return _class_named(index, expr.qual)
    if isinstance(expr, Param):
        known = receivers.classes_of(index, expr)
        return set(known) if known is not None else None
    if isinstance(expr, (Elem, Star)):
        inner = expr.seq if isinstance(expr, Elem) else expr.expr
        return _all(ev, ev.structures(inner, frame), frame, depth)
    if isinstance(expr, Index):  # an item of a list of instances
        return _all(ev, ev.structures(expr.base, frame), frame, depth)
    if isinstance(expr, Attr):  # another object: `task.project`, as the model declares it
        owners = _all(ev, ev.structures(expr.base, frame), frame, depth)
        return _declared_field(index, owners, expr.name) if owners else None
    if isinstance(expr, OneOf):
        return _all(ev, list(expr.options), frame, depth)
    if isinstance(expr, Call):
        return _call_classes(ev, expr, frame, depth)
    return None


def _declared_field(index: ProgramIndex, owners: set[str], name: str) -> set[str] | None:
    """The classes the owners' models declare a field as (`project: Mapped["Project"]`);
    None when one of them does not declare it as an analysed class."""
    found: set[str] = set()
    for owner in owners:
        declared = next(
            (
                dict(index.classes[cls].fields)[name]
                for cls in index.ancestors(owner)
                if cls in index.classes and name in dict(index.classes[cls].fields)
            ),
            None,
        )
        classes = receivers.declared_classes(index, declared) if declared is not None else None
        if not classes:
            return None
        found |= set(classes)
    return found


def _call_classes(ev: Evaluator, call: Call, frame: Frame | None, depth: int) -> set[str] | None:
    """A constructor's class; a statement or a query over the model given first
    (`select(Task)`, `session.get(Task, id)`, `session.scalars(stmt)`); else the class
    of what a method is called on (`Task.objects.filter(...)`, `query.first()`)."""
    func = call.func
    first = call.args[0] if call.args else None
    if isinstance(func, Ref):
        named = func.qual.rsplit(".", 1)[-1]
        takes_model = orm.is_statement(func.qual) or named in orm.MODEL_ARGUMENT_FUNCTIONS
        if takes_model and first is not None:
            return _all(ev, ev.structures(first, frame), frame, depth)
        target = ev.index.resolve(func.qual)
        if target is not None and target[0] == "class":
            return {target[1]}
        return _class_named(ev.index, func.qual)
    if isinstance(func, Attr):
        if func.name in orm.MODEL_ARGUMENT_METHODS and first is not None:
            given = _all(ev, ev.structures(first, frame), frame, depth)
            if given:
                return given
        return _all(ev, ev.structures(func.base, frame), frame, depth)
    return None


def _all(ev: Evaluator, exprs: list[Expr], frame: Frame | None, depth: int) -> set[str] | None:
    found: set[str] = set()
    for expr in exprs:
        classes = _classes(ev, expr, frame, depth + 1)
        if classes is None:
            return None
        found |= classes
    return found


def _class_named(index: ProgramIndex, qual: str) -> set[str] | None:
    """The class a name denotes, or the class it is an attribute of (`Task.objects`,
    `Task.select`); nothing for a function or a global of the analysed code, None
    for a name outside it."""
    target = index.resolve(qual)
    if target is not None:
        return {target[1]} if target[0] == "class" else set()
    owner = qual.rpartition(".")[0]
    while owner:
        target = index.resolve(owner)
        if target is not None:
            return {target[1]} if target[0] == "class" else None
        owner = owner.rpartition(".")[0]
    return None


# -- what is written ---------------------------------------------------------------


def record(ev: Evaluator, struct: DictLit) -> DictLit:
    """A record with its keys as field names (`{Task.status: x}` is `{"status": x}`)
    and its values unwrapped (`Value(x)` is x, `Case(When(..., then=x), default=y)`
    is x or y)."""
    return DictLit(tuple((_field_key(ev, key), unwrapped(value)) for key, value in struct.items))


def _field_key(ev: Evaluator, key: Expr) -> Expr:
    if isinstance(key, Ref):
        owner, _, name = key.qual.rpartition(".")
        target = ev.index.resolve(owner) if owner else None
        if target is not None and target[0] == "class":
            return Lit(name)
    if isinstance(key, Attr):
        return Lit(key.name)
    return key


def unwrapped(value: Expr) -> Expr:
    """The value an ORM expression writes (Django's Value, Case and When)."""
    if not isinstance(value, Call) or not isinstance(value.func, Ref):
        return value
    name = value.func.qual.rsplit(".", 1)[-1]
    kw = dict(value.kwargs)
    if name in orm.VALUE_WRAPPERS and value.args:
        return unwrapped(value.args[0])
    if name == orm.CASE:
        options = [unwrapped(_then(when)) for when in value.args]
        return one_of([*options, unwrapped(kw.get("default", Lit(None)))])
    return value


def _then(when: Expr) -> Expr:
    is_when = isinstance(when, Call) and isinstance(when.func, Ref)
    if is_when and when.func.qual.rsplit(".", 1)[-1] == orm.WHEN:  # type: ignore[union-attr]
        then = dict(when.kwargs).get("then")  # type: ignore[union-attr]
        if then is None and len(when.args) > 1:  # type: ignore[union-attr]
            then = when.args[-1]  # type: ignore[union-attr]
        return then if then is not None else Unknown("a When() with no value")
    return Unknown("a case of Case() not known here")


# -- what the field can hold ---------------------------------------------------------


def choices(ev: Evaluator, expr: Expr) -> frozenset[str] | None:
    """The values a `choices=` list admits: the first of each pair, or a choices
    class's members (`Status.choices`)."""
    if isinstance(expr, Ref):
        owner, _, name = expr.qual.rpartition(".")
        target = ev.index.resolve(owner)
        if name == "choices" and target is not None and target[0] == "class":
            return _members(ev, target[1])
    found: set[str] = set()
    for item in ev.elements(expr, None):
        for struct in ev.structures(item, None):
            value = struct.items[0] if isinstance(struct, Seq) and struct.items else struct
            strings = ev.const_set(value, None)
            if strings is None:
                return None
            found |= strings
    return frozenset(found)


def _members(ev: Evaluator, cls: str) -> frozenset[str] | None:
    prefix = cls + "."
    members = [
        value
        for qual, value in ev.index.globals.items()
        if qual.startswith(prefix) and "." not in qual[len(prefix) :]
    ]
    return choices(ev, Seq(tuple(members)))


def choice_member(ev: Evaluator, qual: str, value: Expr) -> Expr | None:
    """A member of a Django choices class (`RUNNING = "running", "Running"`) is its
    value, the first of the pair; None for any other global."""
    if not isinstance(value, Seq) or not value.items:
        return None
    owner = qual.rpartition(".")[0]
    summary = ev.index.classes.get(owner)
    if summary is None:
        return None
    bases = {b.qual.rsplit(".", 1)[-1] for b in summary.bases if isinstance(b, Ref)}
    return value.items[0] if bases & set(orm.CHOICES_BASES) else None
