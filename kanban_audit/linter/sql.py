"""SQL text -> the columns it writes and where each written value comes from.

Only the SET list of UPDATE and upsert clauses and the column/value lists of
INSERT and REPLACE are writes; WHERE clauses, SELECTs and CASE conditions are
reads. Text that could not be resolved statically arrives as numbered holes
(HOLE_OPEN n HOLE_CLOSE) and is reported back as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

HOLE_OPEN = "\x00"
HOLE_CLOSE = "\x01"


@dataclass(frozen=True)
class Token:
    kind: str  # word, ident, string, number, param, named, hole, op
    text: str
    # param: 0-based position; hole: hole number.
    index: int = -1
    # A positional placeholder that follows a hole: its position is not certain.
    uncertain: bool = False

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class SqlValue:
    """One possible value written: a literal, a placeholder, or a hole."""

    kind: str  # literal | param | named | hole
    value: str | int
    uncertain: bool = False


@dataclass(frozen=True)
class WriteEffect:
    table: str
    column: str
    values: tuple[SqlValue, ...]
    statement: str  # UPDATE | INSERT | REPLACE | UPSERT


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*'?)
  | (?P<ident>"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?)
  | (?P<hole>\x00(?P<hole_n>\d+)\x01)
  | (?P<qparam>\?(?P<qnum>\d*))
  | (?P<pyparam>%\((?P<pyname>\w+)\)s|%s)
  | (?P<named>[:@$][A-Za-z_]\w*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<op>\|\||<=|>=|<>|!=|==|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str) -> list[Token]:
    """Split SQL text, numbering positional placeholders the way SQLite does."""
    tokens: list[Token] = []
    highest = 0
    after_hole = False
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        raw = match.group()
        if kind in ("space", "comment"):
            continue
        if kind == "hole":
            after_hole = True
            tokens.append(Token("hole", raw, int(match.group("hole_n"))))
        elif kind == "qparam" or (kind == "pyparam" and raw == "%s"):
            number = match.group("qnum") if kind == "qparam" else ""
            highest = int(number) if number else highest + 1
            tokens.append(Token("param", raw, highest - 1, after_hole))
        elif kind == "pyparam":
            tokens.append(Token("named", raw, -1))
        elif kind == "named":
            tokens.append(Token("named", raw))
        elif kind == "ident":
            tokens.append(Token("ident", raw))
        else:
            tokens.append(Token(kind or "op", raw))
    return tokens


def param_name(token: Token) -> str:
    """The key a named placeholder looks up in a parameter mapping."""
    if token.text.startswith("%("):
        return token.text[2:-2]
    return token.text[1:]


def identifier(token: Token) -> str | None:
    """The lower-cased name of an identifier token, unquoted; None if not one."""
    if token.kind == "word":
        return token.text.lower()
    if token.kind == "ident":
        inner = token.text[1:-1] if len(token.text) > 1 else ""
        return inner.replace('""', '"').lower()
    return None


def _depths(tokens: list[Token], start: int = 0) -> Iterator[tuple[int, Token, int]]:
    """Each token from `start` with its parenthesis depth (after the token itself)."""
    depth = 0
    for i in range(start, len(tokens)):
        tok = tokens[i]
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth = max(0, depth - 1)
        yield i, tok, depth


def _split(tokens: list[Token], separator: str, holes: bool = False) -> list[list[Token]]:
    """Split at depth-0 separators (and depth-0 holes with `holes`); empty parts are kept."""
    parts: list[list[Token]] = [[]]
    for _, tok, depth in _depths(tokens):
        if depth == 0 and (tok.text == separator or (holes and tok.kind == "hole")):
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def _split_statements(tokens: list[Token]) -> list[list[Token]]:
    return [statement for statement in _split(tokens, ";") if statement]


def _split_top(tokens: list[Token]) -> list[list[Token]]:
    """Split at depth-0 commas; holes at depth 0 are separators too."""
    return [part for part in _split(tokens, ",", holes=True) if part]


def _find_top(tokens: list[Token], words: set[str], start: int = 0) -> int:
    """Index of the first depth-0 keyword in `words` at or after start, else len."""
    for i, tok, depth in _depths(tokens, start):
        if depth == 0 and tok.upper in words:
            return i
    return len(tokens)


def _unwrap(tokens: list[Token]) -> list[Token]:
    while len(tokens) >= 2 and tokens[0].text == "(" and _closing(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return tokens


def _closing(tokens: list[Token], open_at: int) -> int:
    for i, tok, depth in _depths(tokens, open_at):
        if tok.text == ")" and depth == 0:
            return i
    return len(tokens) - 1


def value_atoms(tokens: list[Token], column: str) -> list[SqlValue]:
    """The values an SQL expression on the right of `column =` can produce."""
    tokens = _unwrap(tokens)
    if not tokens:
        return []
    if len(tokens) == 1:
        return _atom(tokens[0], column)
    first = tokens[0].upper
    if first == "CASE" and tokens[-1].upper == "END":
        return _case_results(tokens[1:-1], column)
    if len(tokens) == 3 and tokens[1].text == "." and identifier(tokens[2]) == column:
        return []  # excluded.status / tasks.status: keeps or copies a written value
    if first in ("COALESCE", "IFNULL", "IIF", "NULLIF") and tokens[1].text == "(":
        args = _split_top(tokens[2 : _closing(tokens, 1)])
        if first == "IIF":
            args = args[1:]
        elif first == "NULLIF":
            args = args[:1]
        return [v for arg in args for v in value_atoms(arg, column)]
    # Any other expression: whatever literal or placeholder it holds may pass through.
    return [v for tok in tokens for v in _atom(tok, column, loose=True)]


def _atom(tok: Token, column: str, loose: bool = False) -> list[SqlValue]:
    if tok.kind == "string":
        return [SqlValue("literal", tok.text[1:-1].replace("''", "'"))]
    if tok.kind == "param":
        return [SqlValue("param", tok.index, tok.uncertain)]
    if tok.kind == "named":
        return [SqlValue("named", param_name(tok))]
    if tok.kind == "hole":
        return [SqlValue("hole", tok.index)]
    return []


def _case_results(tokens: list[Token], column: str) -> list[SqlValue]:
    """THEN and ELSE results of a CASE body; the WHEN conditions are reads."""
    results: list[SqlValue] = []
    nested = 0
    collecting = False
    current: list[Token] = []
    for _, tok, depth in _depths(tokens):
        word = tok.upper
        top = depth == 0 and nested == 0
        if word == "CASE":
            nested += 1
        elif word == "END" and nested:
            nested -= 1
        elif top and word in ("WHEN", "THEN", "ELSE"):
            if collecting:
                results += value_atoms(current, column)
            collecting = word in ("THEN", "ELSE")
            current = []
            continue
        if collecting:
            current.append(tok)
    if collecting:
        results += value_atoms(current, column)
    return results


def _table_name(tokens: list[Token], i: int) -> tuple[str | None, int]:
    """Read `[schema.]name` at i; returns the lower-cased name and the next index."""
    if i >= len(tokens):
        return None, i
    name = identifier(tokens[i])
    if tokens[i].kind == "hole":
        return None, i + 1
    i += 1
    if i + 1 < len(tokens) and tokens[i].text == ".":
        name = identifier(tokens[i + 1])
        i += 2
    return name, i


def _assignments(tokens: list[Token], table: str, kind: str) -> list[WriteEffect]:
    effects: list[WriteEffect] = []
    for part in _split_top(tokens):
        eq = next((i for i, t in enumerate(part) if t.text == "="), None)
        if eq is None:
            continue
        target, value = part[:eq], part[eq + 1 :]
        names = [identifier(t) for t in target if t.kind in ("word", "ident")]
        column = _qualified_column(target)
        if column:
            effects.append(WriteEffect(table, column, tuple(value_atoms(value, column)), kind))
        elif target and target[0].text == "(" and all(names):
            # Row value: SET (a, b) = (?, ?)
            values = _split_top(_unwrap(value))
            for n, name in enumerate(names):
                if n < len(values) and name:
                    atoms = tuple(value_atoms(values[n], name))
                    effects.append(WriteEffect(table, name, atoms, kind))
    return effects


def _qualified_column(target: list[Token]) -> str | None:
    """The column a SET target names: `status`, or `tasks.status` as MySQL allows."""
    if len(target) % 2 == 0 or any(t.text != "." for t in target[1::2]):
        return None
    return identifier(target[-1])


_SET_END = {"FROM", "WHERE", "RETURNING", "ORDER", "LIMIT"}


def _update(tokens: list[Token]) -> list[WriteEffect]:
    i = 1
    if i < len(tokens) and tokens[i].upper == "OR":
        i += 2
    table, i = _table_name(tokens, i)
    if table is None:
        return []
    set_at = _find_top(tokens, {"SET"}, i)
    end = _find_top(tokens, _SET_END, set_at + 1)
    return _assignments(tokens[set_at + 1 : end], table, "UPDATE")


def _insert(tokens: list[Token]) -> list[WriteEffect]:
    kind = tokens[0].upper
    into = _find_top(tokens, {"INTO"})
    table, i = _table_name(tokens, into + 1)
    if table is None:
        return []
    if i < len(tokens) and tokens[i].upper == "AS":
        i += 2
    effects: list[WriteEffect] = []
    if i < len(tokens) and tokens[i].text == "(":
        close = _closing(tokens, i)
        column_tokens = tokens[i + 1 : close]
        columns = _columns(column_tokens)
        rows = _rows(tokens, close + 1)
        before = sum(1 for t in tokens[: close + 1] if t.kind == "param")
        for n, column in enumerate(columns):
            if column is None:
                continue
            atoms: list[SqlValue] = []
            for row in rows:
                atoms += _row_value(row, n, column, before)
            effects.append(WriteEffect(table, column, tuple(atoms), kind))
    conflict = _find_top(tokens, {"ON"}, i)
    while conflict < len(tokens):
        do_at = _find_top(tokens, {"DO"}, conflict)
        if do_at + 1 < len(tokens) and tokens[do_at + 1].upper == "UPDATE":
            end = _find_top(tokens, _SET_END | {"ON"}, do_at + 3)
            effects += _assignments(tokens[do_at + 3 : end], table, "UPSERT")
        conflict = _find_top(tokens, {"ON"}, do_at + 1)
    return effects


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


def _rows(tokens: list[Token], i: int) -> list[list[Token] | None]:
    """The value rows of VALUES (...), (...) or the select list of INSERT ... SELECT."""
    if i >= len(tokens):
        return []
    word = tokens[i].upper
    if word == "VALUES":
        rows: list[list[Token] | None] = []
        j = i + 1
        while j < len(tokens) and tokens[j].text == "(":
            close = _closing(tokens, j)
            rows.append(tokens[j + 1 : close])
            j = close + 1
            if j < len(tokens) and tokens[j].text == ",":
                j += 1
        return rows
    if word in ("SELECT", "WITH"):
        start = _find_top(tokens, {"SELECT"}, i) + 1
        if start < len(tokens) and tokens[start].upper in ("DISTINCT", "ALL"):
            start += 1
        end = _find_top(tokens, {"FROM", "WHERE", "UNION", "ORDER", "LIMIT", "ON"}, start)
        return [tokens[start:end]]
    return []


def _row_value(row: list[Token] | None, n: int, column: str, before: int) -> list[SqlValue]:
    if row is None:
        return []
    if len(row) == 1 and row[0].kind == "hole":
        # Generated placeholders (", ".join("?" * len(cols))): one per column, in order.
        return [SqlValue("param", before + n)]
    items = _split(row, ",")
    holes_before = any(len(item) == 1 and item[0].kind == "hole" for item in items[:n])
    if holes_before or n >= len(items):
        # Interpolated fragments may stand for several values: position unknown.
        return [SqlValue("hole", t.index) for item in items for t in item if t.kind == "hole"]
    item = items[n]
    if any(t.upper == "AS" for t in item):
        item = item[: next(i for i, t in enumerate(item) if t.upper == "AS")]
    return value_atoms(item, column)


def parse_writes(text: str) -> list[WriteEffect]:
    """Every column write in SQL text (any number of statements)."""
    effects: list[WriteEffect] = []
    for statement in _split_statements(tokenize(text)):
        start = _find_top(statement, {"UPDATE", "INSERT", "REPLACE", "SELECT", "DELETE"})
        statement = statement[start:]
        if not statement:
            continue
        head = statement[0].upper
        if head == "UPDATE":
            effects += _update(statement)
        elif head in ("INSERT", "REPLACE"):
            effects += _insert(statement)
    return effects


_WRITE_WORD = re.compile(r"(?i)\b(?:update|insert|replace)\b")
_HOLE_START = re.compile(r"(?:\A|;)\s*" + HOLE_OPEN)


def may_write(text: str) -> bool:
    """Whether SQL text with holes could be a write, whatever fills the holes.

    It can when it names a write (UPDATE, INSERT, REPLACE) or when a hole
    stands where a statement starts; `ALTER TABLE {name} ADD {column}` cannot.
    """
    return bool(_WRITE_WORD.search(text) or _HOLE_START.search(text))
