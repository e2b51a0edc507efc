"""Library calls whose result is of a known shape: a number, JSON, a date, a container.

A call the analysed code does not define returns a value not known here, but some
library results can never be the guarded state whatever their argument: `int(x)`
is a number, `json.dumps(x)` is JSON (a text value comes out quoted),
`d.strftime("%Y-%m-%d")` keeps the format's own characters, and `tuple(x)` is no
text at all. Kept as data: a new library result is a new entry, not a branch in
the evaluator.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Atom, Frame, Hole
from kanban_audit.linter.solve.templates import could_be
from kanban_audit.linter.values import Attr, Call, Ref, Unknown

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

# Qualified name of a function -> the shape of the text it returns.
SHAPES: dict[str, str] = {
    "builtins.int": "number",
    "builtins.float": "number",
    "builtins.bool": "number",
    "builtins.len": "number",
    "json.dumps": "json",
    # psycopg's JSON adapters: the value goes to the database as JSON (a text comes
    # out quoted), whatever `dumps=` encoder makes it.
    "psycopg2.extras.Json": "json",
    "psycopg.types.json.Json": "json",
    "psycopg.types.json.Jsonb": "json",
    "django.db.backends.postgresql.psycopg_any.Jsonb": "json",
    # Containers: a tuple or list bound to a placeholder is a row or an array, no text.
    "builtins.tuple": "container",
    "builtins.list": "container",
    "builtins.set": "container",
    "builtins.frozenset": "container",
    "builtins.dict": "container",
}
# Methods whose first argument is a format of `%` directives (datetime, date, time).
FORMAT_METHODS = ("strftime",)
DIRECTIVE = re.compile(r"%[-#_0^]?[A-Za-z%]")


def shaped(ev: Evaluator, call: Call, frame: Frame | None, reason: str) -> Atom | None:
    """The unknown result of a library call, excluding the guarded state when the
    result's shape cannot be it; None when the call is not one of the models."""
    guarded = ev.pack.tasks.guarded
    func = call.func
    if isinstance(func, Ref) and func.qual in SHAPES:
        return _atom(reason, guarded, _POSSIBLE[SHAPES[func.qual]](guarded))
    if isinstance(func, Attr) and func.name in FORMAT_METHODS and call.args:
        formats = ev.strings(call.args[0], frame)
        possible = any(could_be(_directives(f), guarded) for f in formats)
        return _atom(reason, guarded, possible)
    return None


def _atom(reason: str, guarded: str, possible: bool) -> Atom:
    return Atom("unknown", reason, deny=frozenset() if possible else frozenset([guarded]))


def _number(text: str) -> bool:
    """Whether a number (or a bool, stored as 1/0 or True/False) may read as `text`."""
    try:
        float(text)
    except ValueError:
        return text.lower() in ("true", "false")
    return True


def _json_literal(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


# A shape -> whether a value of it may read as a given text.
_POSSIBLE = {"number": _number, "json": _json_literal, "container": lambda text: False}


def _directives(template: tuple) -> tuple:
    """A format's text with each directive (and each part not known here) a hole."""
    pieces: list = []
    for piece in template:
        if not isinstance(piece, str):
            pieces.append(piece)
            continue
        pos = 0
        for match in DIRECTIVE.finditer(piece):
            pieces += [piece[pos : match.start()], Hole(Unknown("a directive"), None)]
            pos = match.end()
        pieces.append(piece[pos:])
    return tuple(pieces)
