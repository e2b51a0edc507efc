"""Write recognisers: which calls write to the database, and what they write.

Each recogniser looks at one call (the method name, the called expression
and the call's symbolic arguments) and returns a Sink or None. A new kind of
write is one more recogniser in RECOGNISERS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kanban_audit.linter import orm
from kanban_audit.linter.values import (
    SPREAD,
    Attr,
    Call,
    Concat,
    DictLit,
    Expr,
    Index,
    Lit,
    Ref,
    Seq,
    Sink,
    Site,
    Star,
    Unknown,
    spread_pair,
)

# The SQL text and its parameters passed by keyword: sqlite3 and DB-API drivers
# (`sql`, `operation`, `parameters`), psycopg (`query`, `params`, `vars`), the
# `databases` package (`query`, `values`), SQLAlchemy (`statement`, `parameters`).
SQL_KEYWORDS = ("sql", "query", "statement", "operation")
SQL_PARAM_KEYWORDS = ("parameters", "params", "parameters_", "args", "values", "vars")
# sqlite-utils Table methods: the keyword and position of the written record(s).
TABLE_METHODS = {
    "update": ("updates", 1),
    "insert": ("record", 0),
    "upsert": ("record", 0),
    "insert_all": ("records", 0),
    "upsert_all": ("records", 0),
}


@dataclass(frozen=True)
class Spellings:
    """What the pack makes a write: the methods that run SQL, and the model fields
    (the status field) whose assignment or keyword is an ORM write."""

    sql_methods: frozenset[str]
    fields: frozenset[str] = frozenset()


Recogniser = Callable[[str, Expr, Call, Spellings], Sink | None]


def sql_write(method: str, func: Expr, call: Call, spellings: Spellings) -> Sink | None:
    """`<anything>.execute(sql, params)` and the pack's other SQL methods, the SQL
    and its parameters given by position or by keyword.

    asyncpg-style drivers take the parameters one by one after the SQL
    (`execute(sql, a, b)`, `fetchrow(sql, *args)`): they become one sequence.
    """
    kw = dict(call.kwargs)
    keyword = next((name for name in SQL_KEYWORDS if name in kw), None)
    if method not in spellings.sql_methods or not (call.args or keyword):
        return None
    sql = call.args[0] if call.args else kw[keyword]  # type: ignore[index]
    if orm_statement(sql):
        return None  # session.execute(update(Task)...): the ORM recogniser reads it
    rest = call.args[1:]
    data = Seq(rest) if len(rest) > 1 or any(isinstance(a, Star) for a in rest) else None
    data = data or (rest[0] if rest else None)
    for name in SQL_PARAM_KEYWORDS:
        data = kw.get(name, data)
    return Sink("sql", call.site, sql, data, method)


def table_write(method: str, func: Expr, call: Call, spellings: Spellings) -> Sink | None:
    """sqlite-utils: `db["tasks"].update(id, {...})`, `db.table("tasks").insert({...})`."""
    if method not in TABLE_METHODS or not isinstance(func, Attr):
        return None
    receiver = func.base
    named = isinstance(receiver, Index) or (
        isinstance(receiver, Call)
        and isinstance(receiver.func, Attr)
        and receiver.func.name == "table"
    )
    if not named:
        return None
    keyword, position = TABLE_METHODS[method]
    kw = dict(call.kwargs)
    data = kw.get(keyword, call.args[position] if len(call.args) > position else None)
    return Sink("table", call.site, receiver, data, method)


def orm_write(method: str, func: Expr, call: Call, spellings: Spellings) -> Sink | None:
    """ORM writes by call (orm.py): a write method on a model, its query or a
    statement over it (`Task.objects.filter(...).update(status=...)`,
    `update(Task).values(...)`, `session.bulk_update_mappings(Task, rows)`), the
    rows of `session.execute(update(Task), rows)`, a model's constructor given the
    field (`Task(status=...)`, `Task(**data)`) and `setattr(task, name, value)`.

    The sink's target is what is written (the instance, the class or the query);
    its data a sequence of records, each a dict of fields to values.
    """
    spec = orm.WRITE_METHODS.get(method)
    receiver = func.base if isinstance(func, Attr) else func
    if method in orm.EXECUTE_METHODS and len(call.args) > 1 and orm_statement(call.args[0]):
        spec, receiver = orm.EXECUTE_ROWS, call.args[0]
    if not method or (spec is None and isinstance(func, Ref)):  # `Task(...)`, `models.Task(...)`
        return _plain_call(func, call, spellings)
    if spec is None or (spec.statement_only and not orm_statement(receiver)):
        return None
    if 0 <= spec.model_position < len(call.args):
        receiver = call.args[spec.model_position]
    kw = dict(call.kwargs)
    records: list[Expr] = []
    fields = _fields(call, spellings.fields, spec.record_keywords) if spec.keywords else None
    if fields is not None:
        records.append(fields)
    given = call.args[spec.position] if 0 <= spec.position < len(call.args) else None
    if given is not None and not isinstance(given, (Lit, Concat)):  # `text.replace("a", "b")`
        records.append(Star(given) if spec.rows else given)
    records += [kw[name] for name in spec.record_keywords if name in kw]
    if not records:
        return None
    return Sink("orm", call.site, receiver, Seq(tuple(records)), method)


def _plain_call(func: Expr, call: Call, spellings: Spellings) -> Sink | None:
    """`setattr(obj, name, value)`, and a call given the field by keyword or a spread
    mapping: a model's constructor, if the solver finds the class is one."""
    if not isinstance(func, Ref):
        return None
    if func.qual == orm.SETATTR and len(call.args) == 3:
        record = DictLit(((call.args[1], call.args[2]),))
        return Sink("orm", call.site, call.args[0], Seq((record,)), "setattr")
    fields = _fields(call, spellings.fields, ())
    if fields is None:
        return None
    return Sink("orm", call.site, func, Seq((fields,)), "construct")


def _fields(call: Call, fields: frozenset[str], records: tuple[str, ...]) -> DictLit | None:
    """A call's keywords as a record of fields, when one may be a written field."""
    if not any(name == SPREAD or name in fields for name, _ in call.kwargs):
        return None
    pairs = [
        spread_pair(value) if name == SPREAD else (Lit(name), value)
        for name, value in call.kwargs
        if name not in records
    ]
    return DictLit(tuple(pairs))


def register_write(method: str, func: Expr, call: Call, spellings: Spellings) -> Sink | None:
    """`admin.site.register(Task, TaskAdmin)`: the admin edits the model's fields."""
    if method != orm.REGISTER or len(call.args) != 2 or not isinstance(call.args[1], Ref):
        return None
    return _edited(call.args[1].qual, call.args[0], call.site, spellings)


def form_write(
    qualname: str, bases: tuple[Expr, ...], registered: list[Expr], site: Site, spellings: Spellings
) -> Sink | None:
    """A Django ModelForm (its model in `Meta.model`) or a ModelAdmin registered by
    decorator (`@admin.register(Task)`): a user may write any choice of the fields
    it edits. Whether it is one is read by the solver (through analysed bases too);
    here only a class deriving from something is a candidate."""
    if not bases:
        return None
    model = registered[0] if registered else Ref(f"{qualname}.{orm.FORM_MODEL}")
    return _edited(qualname, model, site, spellings)


def _edited(form: str, model: Expr, site: Site, spellings: Spellings) -> Sink | None:
    """A form's or an admin's write: its target `form(model)`, a value a user picks."""
    if not spellings.fields:
        return None
    value = Unknown(f"a choice a user picks in `{form.rsplit('.', 1)[-1]}`")
    record = DictLit(tuple((Lit(name), value) for name in sorted(spellings.fields)))
    return Sink("orm", site, Call(Ref(form), (model,), (), site), Seq((record,)), orm.EDITED)


def orm_statement(expr: Expr) -> bool:
    """A statement built by SQLAlchemy's or SQLModel's update(), insert()... over a
    model, with any methods chained on it (`.where(...)`, `.values(...)`)."""
    while isinstance(expr, Call) and isinstance(expr.func, Attr):
        expr = expr.func.base
    built = isinstance(expr, Call) and isinstance(expr.func, Ref)
    return built and orm.is_statement(expr.func.qual)  # type: ignore[union-attr]


RECOGNISERS: tuple[Recogniser, ...] = (sql_write, table_write, orm_write, register_write)


def recognise(method: str, func: Expr, call: Call, spellings: Spellings) -> Sink | None:
    """The write a call is, if any; `method` is "" for a call of a plain name."""
    for recogniser in RECOGNISERS:
        sink = recogniser(method, func, call, spellings)
        if sink is not None:
            return sink
    return None
