"""SQL text that libraries compose, and names that objects hold: more texts for templates.py.

Library models are data: psycopg's (and psycopg2's) `sql` module builds a query from
`SQL` text, `Identifier` names, `Literal` values and `Placeholder`s, joined by
`.format()` and `.join()` (templates.py reads those on any text) or by `Composed`;
SQLAlchemy Core's `text()` is its argument. `.as_string(conn)` is the text itself.

An attribute is a text too, wherever the analysed code gives it one: a class
attribute or what methods store in `self.x`; a field of an object made from a
class (a constructor's argument or the class default: `self.settings.queue_table`
where `settings = Settings()`); for a settings object that arrives as a declared
parameter with no visible caller, the default its class gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve import decorators, instances
from kanban_audit.linter.solve.atoms import Frame, Template
from kanban_audit.linter.values import Attr, Call, Expr, Lit, Ref, Stored

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

_PSYCOPG = ("psycopg.sql", "psycopg2.sql")
# What each composing callable makes of its arguments.
COMPOSERS: dict[str, str] = {
    **{f"{module}.SQL": "text" for module in _PSYCOPG},
    **{f"{module}.Identifier": "identifier" for module in _PSYCOPG},
    **{f"{module}.Literal": "literal" for module in _PSYCOPG},
    **{f"{module}.Placeholder": "placeholder" for module in _PSYCOPG},
    **{f"{module}.Composed": "concat" for module in _PSYCOPG},
    "sqlalchemy.text": "text",
    "sqlalchemy.sql.text": "text",
    "sqlalchemy.sql.expression.text": "text",
}
# Methods of a composed object that give its own text.
SAME_TEXT = ("as_string",)


def composed_texts(ev: Evaluator, call: Call, frame: Frame | None) -> list[Template] | None:
    """The texts a composing call makes, or None when the call is not one."""
    func = call.func
    if isinstance(func, Attr) and func.name in SAME_TEXT:
        return ev.strings(func.base, frame)
    kind = COMPOSERS.get(func.qual) if isinstance(func, Ref) else None
    if kind is None:
        return None
    args = call.args
    if kind == "placeholder":
        name = args[0] if args else None
        if isinstance(name, Lit) and isinstance(name.value, str):
            return [(f"%({name.value})s",)]
        return [("%s",)]
    if not args:
        return [("",)]
    if kind == "text":
        return ev.strings(args[0], frame)
    if kind == "literal":
        return [_quoted(text) for text in ev.strings(args[0], frame)]
    if kind == "identifier":
        return [_dotted([ev.strings(arg, frame)[0] for arg in args])]
    parts = [ev.strings(item, frame)[0] for item in ev.elements(args[0], frame)]
    return [tuple(piece for part in parts for piece in part)]


def _quoted(text: Template) -> Template:
    """A literal's SQL: a known text quoted; a value not known here stays a hole (the
    SQL reader takes a hole where a value goes as that value)."""
    if all(isinstance(piece, str) for piece in text):
        value = "".join(text)  # type: ignore[arg-type]
        return ("'" + value.replace("'", "''") + "'",)
    return text


def _dotted(names: list[Template]) -> Template:
    pieces: list = []
    for n, name in enumerate(names):
        pieces += ["."] * bool(n) + list(name)
    return tuple(pieces)


def named_texts(ev: Evaluator, expr: Expr, frame: Frame | None) -> list[Template] | None:
    """The texts of a name's value where its value is text built in the analysed
    code (a module constant `PREFIX + "jobs"`, a stored or class attribute, an
    object's field), or None to read it as a structure."""
    if isinstance(expr, Ref):
        target = ev.index.resolve(expr.qual)
        if target and target[0] == "global":
            return ev.strings(ev.index.globals[target[1]], frame)
        head, _, name = expr.qual.rpartition(".")
        owner = ev.index.resolve(head) if head else None
        if owner and owner[0] == "global":  # a field of a module's object: `QUERIES.start`
            return _attribute_texts(ev, Attr(Ref(head), name), frame)
        return None
    if isinstance(expr, Stored):
        return instances.stored_texts(ev, expr)
    if isinstance(expr, Attr):
        return _attribute_texts(ev, expr, frame)
    return None


def _attribute_texts(ev: Evaluator, attr: Attr, frame: Frame | None) -> list[Template] | None:
    kept = ev.kept_in(attr, frame)
    if kept:
        return [t for qual in kept for t in ev.strings(Ref(qual), frame)]
    read = decorators.property_read(ev, attr)
    if read is not None:
        return ev.strings(read, frame)
    texts: list[Template] = []
    for struct in ev.structures(attr.base, frame):
        for value in instances.field_values(ev, struct, attr.name):
            texts += ev.strings(value, frame)
    return texts or None
