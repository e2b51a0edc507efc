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

from kanban_audit.linter.sqlguards import Bound, assigned, bound, guards
from kanban_audit.linter.sqltokens import Token, identifier, split, string_value, tokenize
from kanban_audit.linter.sqlvalues import NOT_KNOWN

MAX_DEPTH = 4  # functions calling functions: deeper calls are not read (`Called.deep`)
MAX_CALLS = 64  # bodies read for one text: past them, calls are not read
MAX_LIST = 4_096  # tokens of a parameter or argument list
_MODES = {"IN", "OUT", "INOUT", "VARIADIC"}
# `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, spaces and comments between the words:
# a text without one defines nothing, and is not tokenised (a seed file is read
# whole on every run). A comment between them is read for 100 characters at most,
# so a text of many unclosed comments costs its length a hundred times at most.
_GAP = r"(?:\s|/\*.{0,100}?\*/|--[^\n]{0,100}(?:\n|$))+"
_DEFINES = re.compile(
    rf"\bcreate{_GAP}(?:or{_GAP}replace{_GAP})?(?:function|procedure)\b", re.I | re.S
)


@dataclass(frozen=True)
class SqlFunction:
    name: str  # lower case, schema-qualified as written (`pgjobq.poll`)
    params: tuple[str, ...]  # lower-case names, "" for an unnamed parameter
    body: str


def defined_functions(text: str) -> list[SqlFunction]:
    """Every function or procedure the text defines, trigger functions left out (the
    text is read once: each definition is read within its own statement)."""
    if not _DEFINES.search(text):
        return []
    tokens = tokenize(text)
    found: list[SqlFunction] = []
    for i, tok in enumerate(tokens):
        if tok.upper != "CREATE":
            continue
        j = i + 1
        if [t.upper for t in tokens[j : j + 2]] == ["OR", "REPLACE"]:
            j += 2
        if j >= len(tokens) or tokens[j].upper not in ("FUNCTION", "PROCEDURE"):
            continue
        name, j = _name(tokens, j + 1)
        close = _closing(tokens, j)
        if not name or close is None:
            continue
        params = tuple(_param_name(part) for part in split(tokens[j + 1 : close], ",") if part)
        body, trigger = _body(tokens, close + 1)
        if body is not None and not trigger:
            found.append(SqlFunction(name, params, body))
    return found


def _name(tokens: list[Token], i: int) -> tuple[str, int]:
    """`name` or `schema.name` at i (lower case), and where it ends."""
    parts: list[str] = []
    while i < len(tokens) and tokens[i].kind in ("word", "ident"):
        parts.append(identifier(tokens[i]) or "")
        if i + 2 < len(tokens) and tokens[i + 1].text == "." and len(parts) < 2:
            i += 2
            continue
        return ".".join(parts), i + 1
    return "", i


def _closing(tokens: list[Token], i: int) -> int | None:
    """The parenthesis closing the one at i, within the statement and MAX_LIST tokens
    (None: not there)."""
    if i >= len(tokens) or tokens[i].text != "(":
        return None
    depth = 0
    for j in range(i, min(len(tokens), i + MAX_LIST)):
        text = tokens[j].text
        if text == ";":
            return None
        depth += (text == "(") - (text == ")")
        if depth == 0:
            return j
    return None


def _param_name(part: list[Token]) -> str:
    """A parameter's name: the first word of `[mode] name type`, none for `type` alone."""
    words = [t for t in part if t.kind in ("word", "ident")]
    if words and words[0].upper in _MODES:
        words = words[1:]
    before_default = [t for t in words if t.upper != "DEFAULT"]
    if len(words) >= 2 and words[1].upper != "DEFAULT" and before_default:
        return identifier(words[0]) or ""
    return ""


def _body(tokens: list[Token], i: int) -> tuple[str | None, bool]:
    """The body after `AS` (a dollar-quoted or quoted string), and whether the function
    returns a trigger, read up to the statement's end."""
    body: str | None = None
    trigger = False
    for j in range(i, len(tokens) - 1):
        tok = tokens[j]
        if tok.text == ";":
            break
        if tok.upper == "RETURNS":
            trigger = trigger or tokens[j + 1].upper in ("TRIGGER", "EVENT_TRIGGER")
        if tok.upper == "AS" and tokens[j + 1].kind == "string" and body is None:
            body = string_value(tokens[j + 1])
    return body, trigger


@dataclass(frozen=True)
class Called:
    """A call of a defined function in SQL text: (a stretch of) its body with the
    arguments put in, and what the body's guards before it leave of them."""

    function: SqlFunction
    text: str
    bounds: tuple[Bound, ...] = ()
    # A call past MAX_DEPTH: its body is not read (`text` is empty).
    deep: bool = False


def called(
    text: str,
    functions: dict[str, list[SqlFunction]],
    depth: int = 0,
    bounds: tuple[Bound, ...] = (),
) -> list[Called]:
    """The bodies the calls in `text` run, arguments substituted, and the calls in
    those bodies in turn (up to MAX_DEPTH deep and MAX_CALLS in all)."""
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
        close = _closing(tokens, i + 1)
        listed = tokens[i + 2 : close] if close is not None else []
        args = [part for part in split(listed, ",") if part]
        for function in defined:
            for body, guarded in _substituted(function, args):
                if len(found) >= MAX_CALLS:
                    return found
                inner = bounds + guarded
                found.append(Called(function, body, inner))
                if depth + 1 < MAX_DEPTH:
                    found += called(body, functions, depth + 1, inner)[: MAX_CALLS - len(found)]
                else:
                    found += [Called(f, "", inner, deep=True) for f in _calls_in(body, functions)]
    return found


def _calls_in(text: str, functions: dict[str, list[SqlFunction]]) -> list[SqlFunction]:
    """The defined functions a text names before a `(` (read no further)."""
    tokens = tokenize(text)
    found: list[SqlFunction] = []
    for i, tok in enumerate(tokens[:-1]):
        if tokens[i + 1].text == "(" and tok.kind in ("word", "ident"):
            name = identifier(tok) or ""
            found += [f for f in functions.get(name, []) if f not in found]
    return found


def reaches(
    function: SqlFunction, functions: dict[str, list[SqlFunction]], words: Iterable[str]
) -> bool:
    """Whether the function's body, or a body of a function it calls in turn, holds
    every one of `words` (lower case): whether a call read no further may write them."""
    seen: list[SqlFunction] = []
    todo = [function]
    while todo and len(seen) <= len(functions):
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        body = current.body.lower()
        if all(word in body for word in words):
            return True
        todo += _calls_in(current.body, functions)
    return False


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
            pieces.append(f"?{tok.index + 1}" if not tok.uncertain else NOT_KNOWN)
        else:
            pieces.append(tok.text)
    return " ".join(pieces)


def _substituted(
    function: SqlFunction, args: list[list[Token]]
) -> list[tuple[str, tuple[Bound, ...]]]:
    """The body with each parameter (by name or `$n`) replaced by its argument, cut
    where a guard begins to hold (sqlguards.py), each stretch with the caller's
    values as the guards before it leave them. A parameter with no argument stays
    (a value not known here), and so does a name after a dot (a table's column); one
    the body assigns is a value not known here."""
    named = {p: n for n, p in enumerate(function.params) if p}
    tokens = tokenize(function.body)
    changed = assigned(tokens, function.params)
    texts = [NOT_KNOWN if n in changed else _argument_text(arg) for n, arg in enumerate(args)]
    stretches: list[tuple[str, tuple[Bound, ...]]] = []
    bounds: tuple[Bound, ...] = ()
    start = 0
    for guard in guards(tokens, function.params, changed):
        if guard.end > start:
            stretches.append((_put_in(tokens, start, guard.end, named, texts), bounds))
            start = guard.end
        found = bound(args[guard.param], guard) if guard.param < len(args) else None
        bounds += (found,) if found is not None else ()
    stretches.append((_put_in(tokens, start, len(tokens), named, texts), bounds))
    return stretches


def _put_in(
    tokens: list[Token], start: int, end: int, named: dict[str, int], args: list[str]
) -> str:
    """tokens[start:end] as text, each parameter replaced by its argument."""
    pieces: list[str] = []
    for i in range(start, end):
        tok = tokens[i]
        qualified = i > 0 and tokens[i - 1].text == "."  # `jobs.id` names a column
        position = None
        if tok.kind in ("word", "ident") and not qualified:
            position = named.get(identifier(tok) or "")
        if tok.kind == "arg":
            position = tok.index
        if position is not None and position < len(args):
            pieces.append(f"({args[position]})")
        elif tok.kind == "arg":
            pieces.append(NOT_KNOWN)  # not the caller's own `$n`
        else:
            pieces.append(tok.text)
    return " ".join(pieces)
