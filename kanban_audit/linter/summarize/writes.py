"""Write recognisers: which calls write to the database, and what they write.

Each recogniser looks at one call (the method name, the called expression
and the call's symbolic arguments) and returns a Sink or None. A new kind of
write is one more recogniser in RECOGNISERS.
"""

from __future__ import annotations

from collections.abc import Callable

from kanban_audit.linter.values import Attr, Call, Expr, Index, Seq, Sink, Star

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

Recogniser = Callable[[str, Expr, Call, frozenset[str]], Sink | None]


def sql_write(method: str, func: Expr, call: Call, sql_methods: frozenset[str]) -> Sink | None:
    """`<anything>.execute(sql, params)` and the pack's other SQL methods, the SQL
    and its parameters given by position or by keyword.

    asyncpg-style drivers take the parameters one by one after the SQL
    (`execute(sql, a, b)`, `fetchrow(sql, *args)`): they become one sequence.
    """
    kw = dict(call.kwargs)
    keyword = next((name for name in SQL_KEYWORDS if name in kw), None)
    if method not in sql_methods or not (call.args or keyword):
        return None
    sql = call.args[0] if call.args else kw[keyword]  # type: ignore[index]
    rest = call.args[1:]
    data = Seq(rest) if len(rest) > 1 or any(isinstance(a, Star) for a in rest) else None
    data = data or (rest[0] if rest else None)
    for name in SQL_PARAM_KEYWORDS:
        data = kw.get(name, data)
    return Sink("sql", call.site, sql, data, method)


def table_write(method: str, func: Expr, call: Call, sql_methods: frozenset[str]) -> Sink | None:
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


RECOGNISERS: tuple[Recogniser, ...] = (sql_write, table_write)


def recognise(method: str, func: Expr, call: Call, sql_methods: frozenset[str]) -> Sink | None:
    for recogniser in RECOGNISERS:
        sink = recogniser(method, func, call, sql_methods)
        if sink is not None:
            return sink
    return None
