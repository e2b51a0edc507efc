"""Tables the analysed code creates: `CREATE TABLE tasks (id, status, ...)` gives the
column order an `INSERT INTO tasks VALUES (...)` with no column list writes."""

from __future__ import annotations

from kanban_audit.linter.sqltokens import Token, closing, identifier, split, split_top, tokenize

# What begins a table constraint rather than a column definition.
_CONSTRAINTS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}


def created_tables(text: str) -> dict[str, list[str]]:
    """Table (lower-cased, without schema) -> its columns in order, for each
    `CREATE [TEMP] TABLE [IF NOT EXISTS] name (...)` in the text."""
    found: dict[str, list[str]] = {}
    for statement in split(tokenize(text), ";"):
        words = [tok.upper for tok in statement[:8]]
        if "CREATE" not in words[:1] or "TABLE" not in words:
            continue
        at = words.index("TABLE") + 1
        if [tok.upper for tok in statement[at : at + 3]] == ["IF", "NOT", "EXISTS"]:
            at += 3
        name, at = _name(statement, at)
        if name is None or at >= len(statement) or statement[at].text != "(":
            continue
        columns = _columns(statement[at + 1 : closing(statement, at)])
        if columns:
            found.setdefault(name, columns)
    return found


def _name(tokens: list[Token], at: int) -> tuple[str | None, int]:
    """`[schema.]name` at `at`: the name and the index after it."""
    if at >= len(tokens):
        return None, at
    name = identifier(tokens[at])
    if at + 2 < len(tokens) and tokens[at + 1].text == ".":
        return identifier(tokens[at + 2]), at + 3
    return name, at + 1


def _columns(body: list[Token]) -> list[str]:
    """The column names of a table body, in order; none when a part is not known."""
    columns: list[str] = []
    for part in split_top(body):
        if part[0].kind == "hole":
            return []
        if part[0].upper in _CONSTRAINTS:
            continue
        name = identifier(part[0])
        if name is None:
            return []
        columns.append(name)
    return columns
