"""SQL text -> the columns it writes and where each written value comes from.

Only the SET list of UPDATE and upsert clauses and the column/value lists of
INSERT and REPLACE are writes; WHERE clauses, SELECTs and CASE conditions are
reads. An INSERT without a column list writes the table's columns in the
order the rule pack gives; without one, its columns are unknown. What each
written expression can be is sqlvalues.py's part; the text arrives as tokens
(sqltokens.py), holes included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kanban_audit.linter.sqltokens import HOLE_CLOSE as HOLE_CLOSE  # templates.py marks holes
from kanban_audit.linter.sqltokens import (
    HOLE_OPEN,
    Token,
    closing,
    depths,
    find_top,
    identifier,
    split,
    split_top,
    tokenize,
    unwrap,
)
from kanban_audit.linter.sqlvalues import Scope, SqlValue, select_item, unknown, value_atoms

# The column of a write whose columns are not known: it may be any of them.
ANY_COLUMN = "*"
# The table of a write whose table is a hole in the text (named by a value not known).
TABLE_NOT_KNOWN = ""

Orders = Mapping[str, Sequence[str]]  # table -> its columns in order (lower case)


@dataclass(frozen=True)
class WriteEffect:
    table: str
    column: str
    values: tuple[SqlValue, ...]
    statement: str  # UPDATE | INSERT | REPLACE | UPSERT
    # SET {name} = ...: the column is named by this hole (column is then "").
    column_hole: int = -1
    # SET {fragment}: the hole is a whole part of the SET list, columns and values.
    fragment: bool = False
    # INSERT ... SELECT: the rows' values are read out of a query.
    selected: bool = False


def _split_statements(tokens: list[Token]) -> list[list[Token]]:
    return [statement for statement in split(tokens, ";") if statement]


def _table_name(tokens: list[Token], i: int) -> tuple[str | None, int]:
    """Read `[schema.]name` at i; returns the lower-cased name and the next index.

    A name wholly named by values not known here is TABLE_NOT_KNOWN; one partly
    built from them (`app_{name}`, `` `ack_{name}` ``) keeps a HOLE_OPEN where
    each such value stands (tablenames.py judges it against the pack).
    """
    if i >= len(tokens):
        return None, i
    name, i = _name_part(tokens, i)
    if i + 1 < len(tokens) and tokens[i].text == ".":
        name, i = _name_part(tokens, i + 1)
    return name, i


_HOLE_IN_NAME = re.compile(HOLE_OPEN + r"\d+" + HOLE_CLOSE)
NAME_TOKENS = ("word", "ident", "hole", "number")


def _name_part(tokens: list[Token], i: int) -> tuple[str | None, int]:
    """One part of a dotted name: a word, a quoted name or a hole, with the name
    tokens written right after it."""
    if tokens[i].kind not in NAME_TOKENS:
        return identifier(tokens[i]), i + 1
    pieces = []
    end = i
    while end < len(tokens) and tokens[end].kind in NAME_TOKENS:
        if end > i and not tokens[end].glued:
            break
        token = tokens[end]
        pieces.append(HOLE_OPEN if token.kind == "hole" else identifier(token) or token.text)
        end += 1
    name = _HOLE_IN_NAME.sub(HOLE_OPEN, "".join(pieces))
    return (TABLE_NOT_KNOWN if not name.strip(HOLE_OPEN) else name), end


def _assignments(tokens: list[Token], table: str, kind: str, orders: Orders) -> list[WriteEffect]:
    effects = [WriteEffect(table, "", (), kind, hole, fragment=True) for hole in _fragments(tokens)]
    known = frozenset(orders[table]) if table in orders else None
    for part in split_top(tokens):
        eq = next((i for i, t in enumerate(part) if t.text == "="), None)
        if eq is None:
            continue
        target, value = part[:eq], part[eq + 1 :]
        if len(target) == 1 and target[0].kind == "hole":
            atoms = tuple(value_atoms(value, Scope(table, "", known)))
            effects.append(WriteEffect(table, "", atoms, kind, target[0].index))
            continue
        names = [identifier(t) for t in target if t.kind in ("word", "ident")]
        column = _qualified_column(target)
        if column:
            atoms = tuple(value_atoms(value, Scope(table, column, known)))
            effects.append(WriteEffect(table, column, atoms, kind))
        elif target and target[0].text == "(" and all(names):
            # Row value: SET (a, b) = (?, ?)
            values = split_top(unwrap(value))
            for n, name in enumerate(names):
                if n < len(values) and name:
                    atoms = tuple(value_atoms(values[n], Scope(table, name, known)))
                    effects.append(WriteEffect(table, name, atoms, kind))
    return effects


def _fragments(tokens: list[Token]) -> list[int]:
    """Holes that stand for whole parts of a SET list (`SET {sets}`, `SET a = ?,
    {more}`): a hole at the start of a part, followed by a comma, another hole
    or the end."""
    found: list[int] = []
    at_start = True
    for i, tok, depth in depths(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if depth == 0 and tok.kind == "hole" and at_start:
            if after is None or after.text == "," or after.kind == "hole":
                found.append(tok.index)
            continue
        at_start = depth == 0 and tok.text == ","
    return found


def _qualified_column(target: list[Token]) -> str | None:
    """The column a SET target names: `status`, or `tasks.status` as MySQL allows."""
    if len(target) % 2 == 0 or any(t.text != "." for t in target[1::2]):
        return None
    return identifier(target[-1])


_SET_END = {"FROM", "WHERE", "RETURNING", "ORDER", "LIMIT"}


def _update(tokens: list[Token], orders: Orders) -> list[WriteEffect]:
    i = 1
    if i < len(tokens) and tokens[i].upper == "OR":
        i += 2
    table, i = _table_name(tokens, i)
    if table is None:
        return []
    set_at = find_top(tokens, {"SET"}, i)
    end = find_top(tokens, _SET_END, set_at + 1)
    return _assignments(tokens[set_at + 1 : end], table, "UPDATE", orders)


def _insert(tokens: list[Token], orders: Orders) -> list[WriteEffect]:
    kind = tokens[0].upper
    into = find_top(tokens, {"INTO"})
    table, i = _table_name(tokens, into + 1)
    if table is None:
        return []
    if i < len(tokens) and tokens[i].upper == "AS":
        i += 2
    listed = i + 1 < len(tokens) and tokens[i].text == "(" and tokens[i + 1].upper != "SELECT"
    if listed:
        close = closing(tokens, i)
        columns = _columns(tokens[i + 1 : close])
        values_at = close + 1
    else:
        columns = list(orders.get(table, ()))
        values_at = i
    rows = _rows(tokens, values_at)
    selected = _selects(tokens, values_at)
    before = sum(1 for t in tokens[:values_at] if t.kind == "param")
    effects: list[WriteEffect] = []
    for n, column in enumerate(columns):
        if column is None:
            continue
        atoms: list[SqlValue] = []
        for row in rows:
            atoms += _row_value(row, n, before)
        effects.append(WriteEffect(table, column, tuple(atoms), kind, selected=selected))
    if listed:
        effects += _hole_columns(table, kind, tokens[i + 1 : close], len(columns), rows, before)
    if rows and not listed and not columns:
        why = f"the columns of INSERT INTO {table} without a column list: no column order known"
        effects.append(WriteEffect(table, ANY_COLUMN, (unknown(why),), kind))
    conflict = find_top(tokens, {"ON"}, i)
    while conflict < len(tokens):
        do_at = find_top(tokens, {"DO"}, conflict)
        if do_at + 1 < len(tokens) and tokens[do_at + 1].upper == "UPDATE":
            end = find_top(tokens, _SET_END | {"ON"}, do_at + 3)
            effects += _assignments(tokens[do_at + 3 : end], table, "UPSERT", orders)
        conflict = find_top(tokens, {"ON"}, do_at + 1)
    return effects


def _hole_columns(
    table: str,
    kind: str,
    tokens: list[Token],
    known: int,
    rows: list[list[Token]],
    before: int,
) -> list[WriteEffect]:
    """Columns named by an interpolated fragment (`({columns})` from a dict's keys):
    an effect per such hole, holding every value the rows give from the first
    position the fragment may fill (`known` columns come before it)."""
    holes = [tok for tok in tokens if tok.kind == "hole"]
    if not holes:
        return []
    values: list[SqlValue] = []
    for row in rows:
        if len(row) == 1 and row[0].kind == "hole":
            values.append(SqlValue("param", before + known, uncertain=True))
        else:
            values += [v for item in split(row, ",")[known:] for v in select_item(item)]
    return [WriteEffect(table, "", tuple(values), kind, hole.index) for hole in holes]


def _columns(tokens: list[Token]) -> list[str | None]:
    """Column names in order, up to the first interpolated fragment (after it, unknown)."""
    columns: list[str | None] = []
    current: list[Token] = []
    for tok in [*tokens, Token("op", ",")]:
        if tok.kind == "hole":
            break
        if tok.text == ",":
            columns.append(identifier(current[0]) if len(current) == 1 else None)
            current = []
        else:
            current.append(tok)
    return columns


def _rows(tokens: list[Token], i: int) -> list[list[Token]]:
    """The value rows of VALUES (...), (...) or the select list of INSERT ... SELECT."""
    if i < len(tokens) and tokens[i].text == "(":  # INSERT INTO t (SELECT ...)
        return _rows(tokens[i + 1 : closing(tokens, i)], 0)
    if i >= len(tokens):
        return []
    word = tokens[i].upper
    if word == "VALUES":
        rows: list[list[Token]] = []
        j = i + 1
        while j < len(tokens) and tokens[j].text == "(":
            close = closing(tokens, j)
            rows.append(tokens[j + 1 : close])
            j = close + 1
            if j < len(tokens) and tokens[j].text == ",":
                j += 1
        return rows
    if word in ("SELECT", "WITH"):
        start = find_top(tokens, {"SELECT"}, i) + 1
        if start < len(tokens) and tokens[start].upper in ("DISTINCT", "ALL"):
            start += 1
        end = find_top(tokens, {"FROM", "WHERE", "UNION", "ORDER", "LIMIT", "ON"}, start)
        return [tokens[start:end]]
    return []


def _selects(tokens: list[Token], i: int) -> bool:
    """Whether the rows an INSERT writes from `i` on are a query's (`SELECT`, `WITH`,
    `(SELECT ...)`), not VALUES."""
    while i < len(tokens) and tokens[i].text == "(":
        i += 1
    return i < len(tokens) and tokens[i].upper in ("SELECT", "WITH")


def _row_value(row: list[Token], n: int, before: int) -> list[SqlValue]:
    """The values of the n-th item of a VALUES row or a select list."""
    if len(row) == 1 and row[0].kind == "hole":
        # Generated placeholders (", ".join("?" * len(cols))): one per column, in order.
        return [SqlValue("param", before + n)]
    items = split(row, ",")
    if any(len(item) == 1 and item[0].text == "*" for item in items[:n]):
        return [unknown("the columns of SELECT *")]
    holes_before = any(len(item) == 1 and item[0].kind == "hole" for item in items[:n])
    if holes_before or n >= len(items):
        # Interpolated fragments may stand for several values: position unknown.
        return [SqlValue("hole", t.index) for item in items for t in item if t.kind == "hole"]
    return select_item(items[n])


def parse_writes(text: str, orders: Orders | None = None) -> list[WriteEffect]:
    """Every column write in SQL text (any number of statements); `orders` gives
    tables' columns in order, for INSERTs without a column list."""
    orders = orders or {}
    effects: list[WriteEffect] = []
    for statement in _split_statements(tokenize(text)):
        effects += _statement_writes(statement, orders)
    return effects


def _statement_writes(statement: list[Token], orders: Orders) -> list[WriteEffect]:
    """The writes of one statement: its own, and those of the data-modifying common
    table expressions of its WITH clause (`WITH claimed AS (UPDATE jobs SET status =
    'picked' ... RETURNING *) SELECT * FROM claimed`)."""
    effects: list[WriteEffect] = []
    if statement and statement[0].upper == "WITH":
        for body in _with_bodies(statement):
            effects += _statement_writes(body, orders)
    start = find_top(statement, {"UPDATE", "INSERT", "REPLACE", "SELECT", "DELETE"})
    statement = statement[start:]
    if not statement:
        return effects
    head = statement[0].upper
    if head == "UPDATE":
        effects += _update(statement, orders)
    elif head in ("INSERT", "REPLACE"):
        effects += _insert(statement, orders)
    return effects


def _with_bodies(statement: list[Token]) -> list[list[Token]]:
    """The bodies of a WITH clause's expressions (`name AS [[NOT] MATERIALIZED]
    (...)`), up to the statement they prefix; a column list `name (a, b)` is none."""
    bodies: list[list[Token]] = []
    i = 1
    while i < len(statement):
        token = statement[i]
        if token.text == "(":
            close = closing(statement, i)
            if statement[i - 1].upper in ("AS", "MATERIALIZED"):
                bodies.append(statement[i + 1 : close])
            i = close + 1
        elif token.upper in _STATEMENT_WORDS:
            break
        else:
            i += 1
    return bodies


_STATEMENT_WORDS = frozenset({"SELECT", "UPDATE", "INSERT", "REPLACE", "DELETE", "VALUES"})


_HEAD = re.compile(r"\s*(?:(?:--[^\n]*\n|/\*.*?\*/|\()\s*)*(\w+|" + HOLE_OPEN + ")", re.S)
_CTE_WRITE = re.compile(r"(?i)\b(?:update|insert|replace\s+into)\b")


def may_write(text: str) -> bool:
    """Whether SQL text with holes could be a write, whatever fills the holes.

    It can when a statement starts with UPDATE, INSERT or REPLACE, with a hole
    (the statement itself is built elsewhere), or with WITH before a write;
    `ALTER TABLE {name} ADD {column}` and `SELECT replace(x, ...) FROM {t}`
    cannot.
    """
    for statement in text.split(";"):
        head = _HEAD.match(statement)
        if head is None:
            continue
        word = head.group(1).upper()
        if word in ("UPDATE", "INSERT", "REPLACE", HOLE_OPEN):
            return True
        if word == "WITH" and _CTE_WRITE.search(statement):
            return True
    return False
