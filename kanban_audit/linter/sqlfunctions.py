"""SQL functions and procedures the program's schema defines, and what a call of one writes.

`CREATE [OR REPLACE] FUNCTION name(params) ... AS $$ body $$` (or PROCEDURE) in a
project's `.sql` file or in SQL text of the analysed code: SQL that calls it
(`SELECT * FROM name(%s)`, `SELECT name(...)`, `CALL name(...)`) writes what its
body writes. The body is read with each of the function's parameters (by name,
or `$n`) replaced by the caller's argument, so a literal in the body is that
literal and a parameter used as a value is whatever the caller passes: a
placeholder bound from the caller's parameters, or a value not known here.

A trigger function (`RETURNS trigger`) is called by the database on writes the
lint judges already, never by the program's SQL: its body is not a write of
any call. A function defined several times (migrations replace them) writes
what any definition writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kanban_audit.linter.sqltokens import Token, closing, identifier, split, string_value, tokenize

MAX_DEPTH = 4  # functions calling functions: deeper calls are not read
_CREATE = re.compile(
    r"\bcreate\s+(?:or\s+replace\s+)?(?:function|procedure)\s+"
    r"((?:\"[^\"]+\"|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|[\w$]+))?)\s*\(",
    re.IGNORECASE,
)
_MODES = {"IN", "OUT", "INOUT", "VARIADIC"}


@dataclass(frozen=True)
class SqlFunction:
    name: str  # lower case, schema-qualified as written (`pgjobq.poll`)
    params: tuple[str, ...]  # lower-case names, "" for an unnamed parameter
    body: str


def defined_functions(text: str) -> list[SqlFunction]:
    """Every function or procedure the text defines, trigger functions left out."""
    found: list[SqlFunction] = []
    for match in _CREATE.finditer(text):
        tokens = tokenize(text[match.end() - 1 :])
        if not tokens or tokens[0].text != "(":
            continue
        close = closing(tokens, 0)
        params = tuple(_param_name(part) for part in split(tokens[1:close], ",") if part)
        rest = tokens[close + 1 :]
        body = _body(rest)
        if body is None or _returns_trigger(rest):
            continue
        name = "".join(t.text.strip('"') for t in _name_tokens(match.group(1))).lower()
        found.append(SqlFunction(name, params, body))
    return found


def _name_tokens(text: str) -> list[Token]:
    return [t for t in tokenize(text) if t.kind in ("word", "ident") or t.text == "."]


def _param_name(part: list[Token]) -> str:
    """A parameter's name: the first word of `[mode] name type`, none for `type` alone."""
    words = [t for t in part if t.kind in ("word", "ident")]
    if words and words[0].upper in _MODES:
        words = words[1:]
    before_default = [t for t in words if t.upper != "DEFAULT"]
    if len(words) >= 2 and words[1].upper != "DEFAULT" and before_default:
        return identifier(words[0]) or ""
    return ""


def _body(tokens: list[Token]) -> str | None:
    """The body after `AS` (a dollar-quoted or quoted string) up to the statement's end."""
    for i, tok in enumerate(tokens):
        if tok.text == ";":
            return None
        if tok.upper == "AS" and i + 1 < len(tokens) and tokens[i + 1].kind == "string":
            return string_value(tokens[i + 1])
    return None


def _returns_trigger(tokens: list[Token]) -> bool:
    for i, tok in enumerate(tokens[:-1]):
        if tok.text == ";" or tok.upper == "AS":
            return False
        if tok.upper == "RETURNS":
            return tokens[i + 1].upper in ("TRIGGER", "EVENT_TRIGGER")
    return False


@dataclass(frozen=True)
class Called:
    """A call of a defined function in SQL text: its body with the arguments put in."""

    function: SqlFunction
    text: str


def called(text: str, functions: dict[str, list[SqlFunction]], depth: int = 0) -> list[Called]:
    """The bodies the calls in `text` run, arguments substituted, and the calls in
    those bodies in turn (up to MAX_DEPTH)."""
    if depth >= MAX_DEPTH or not functions:
        return []
    low = text.lower()
    if not any(name.rsplit(".", 1)[-1] in low for name in functions):
        return []
    tokens = tokenize(text)
    found: list[Called] = []
    for i, tok in enumerate(tokens[:-1]):
        if tokens[i + 1].text != "(" or tok.kind not in ("word", "ident"):
            continue
        name = identifier(tok) or ""
        before = i - 1
        if i >= 2 and tokens[i - 1].text == "." and tokens[i - 2].kind in ("word", "ident"):
            name = f"{identifier(tokens[i - 2])}.{name}"
            before = i - 3
        if before >= 0 and tokens[before].upper in ("FUNCTION", "PROCEDURE"):
            continue  # defined, dropped or altered here, not called
        defined = functions.get(name) or functions.get(name.rsplit(".", 1)[-1], [])
        if not defined:
            continue
        args = [part for part in split(tokens[i + 2 : closing(tokens, i + 1)], ",") if part]
        for function in defined:
            body = _substituted(function, [_argument_text(arg) for arg in args])
            found.append(Called(function, body))
            found += called(body, functions, depth + 1)
    return found


def by_name(functions: Iterable[SqlFunction]) -> dict[str, list[SqlFunction]]:
    """Functions by name, and by their unqualified name (a schema's search path)."""
    table: dict[str, list[SqlFunction]] = {}
    for function in functions:
        for key in {function.name, function.name.rsplit(".", 1)[-1]}:
            if function not in table.setdefault(key, []):
                table[key].append(function)
    return table


def _argument_text(tokens: list[Token]) -> str:
    """An argument as text for the body: a positional placeholder keeps its place
    (`?N`); one whose place is not certain is a value not known here."""
    pieces = []
    for tok in tokens:
        if tok.kind == "param":
            pieces.append(f"?{tok.index + 1}" if not tok.uncertain else "argument_not_known")
        else:
            pieces.append(tok.text)
    return " ".join(pieces)


def _substituted(function: SqlFunction, args: list[str]) -> str:
    """The body with each parameter (by name or `$n`) replaced by its argument; a
    parameter with no argument stays (a value not known here), and so does a name
    after a dot (a table's column)."""
    named = {p: n for n, p in enumerate(function.params) if p}
    pieces: list[str] = []
    for tok in tokenize(function.body):
        qualified = pieces[-1:] == ["."]  # `jobs.id` names a column, not a parameter
        position = None
        if tok.kind in ("word", "ident") and not qualified:
            position = named.get(identifier(tok) or "")
        if tok.kind == "arg":
            position = tok.index
        if position is not None and position < len(args):
            pieces.append(f"({args[position]})")
        else:
            pieces.append(tok.text)
    return " ".join(pieces)
