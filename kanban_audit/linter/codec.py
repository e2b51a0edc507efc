"""Summaries as data: a flat JSON table of nodes, validated field by field on load.

The cache may come from anywhere (a pull request can commit one), so loading
must never run code: this format is plain JSON, every node's fields are
checked against the schema below, and a node may refer only to nodes listed
before it (so the graph is acyclic and built in one pass). Shared
sub-expressions are stored once. Anything unexpected raises FormatError and
the caller treats the entry as missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from kanban_audit.linter.values import (
    Attr,
    BinOp,
    Call,
    Caught,
    Check,
    ChunkSummary,
    ClassSummary,
    Comp,
    Concat,
    DictLit,
    Elem,
    FunctionSummary,
    Holds,
    Index,
    Lambda,
    Lit,
    ModuleSummary,
    Narrowed,
    OneOf,
    Param,
    Ref,
    Refined,
    Seq,
    Sink,
    Site,
    Star,
    Stored,
    Unknown,
)

FORMAT = 1


class FormatError(ValueError):
    """Data that is not a summary of this format."""


EXPRESSIONS = (
    Lit, Unknown, Param, Ref, Attr, Index, Call, OneOf, Narrowed, BinOp, Concat, Seq, Star,
    DictLit, Lambda, Comp, Elem, Stored, Refined, Check, Holds, Caught,
)  # fmt: skip

Kinds = frozenset[type]  # the node classes a reference may point to
_EXPRESSIONS: Kinds = frozenset(EXPRESSIONS)
_SITE, _CALL, _SINK = frozenset({Site}), frozenset({Call}), frozenset({Sink})
_FUNCTION, _CLASS = frozenset({FunctionSummary}), frozenset({ClassSummary})

# Field kinds: "expr" (a node that is an expression), "expr?" (or null),
# "exprs" (list of expressions), "pairs" (list of [expr, expr]), "kwargs"
# (list of [str, expr]), "assigned" (list of [str, expr]), "site", "str",
# "int", "bool", "scalar" (a JSON scalar), "strs" (list of str), "env"
# ({str: expr}), "strmap" ({str: str}), "calls", "sinks", "functions",
# "classes" (lists / maps of Call, Sink, FunctionSummary, ClassSummary nodes).
SCHEMA: dict[type, tuple[tuple[str, str], ...]] = {
    Site: (("line", "int"), ("col", "int"), ("stmt_line", "int"), ("text", "str"),
           ("end_line", "int")),
    Lit: (("value", "scalar"),),
    Unknown: (("reason", "str"),),
    Param: (("func", "str"), ("name", "str")),
    Ref: (("qual", "str"),),
    Attr: (("base", "expr"), ("name", "str")),
    Index: (("base", "expr"), ("key", "expr")),
    Call: (("func", "expr"), ("args", "exprs"), ("kwargs", "kwargs"), ("site", "site"),
           ("spread", "bool")),
    OneOf: (("options", "exprs"),),
    Narrowed: (("expr", "expr"), ("allow", "expr?"), ("deny", "expr?")),
    BinOp: (("op", "str"), ("left", "expr"), ("right", "expr")),
    Concat: (("parts", "exprs"),),
    Seq: (("items", "exprs"),),
    Star: (("expr", "expr"),),
    DictLit: (("items", "pairs"), ("comp", "expr?")),
    Lambda: (("body", "expr"),),
    Comp: (("elt", "expr"), ("over", "expr?"), ("keep", "exprs")),
    Elem: (("seq", "expr"),),
    Stored: (("value", "expr"), ("func", "str"), ("attr", "str"), ("site", "site")),
    Refined: (("expr", "expr"), ("attrs", "kwargs")),
    Check: (("subject", "expr"), ("allow", "expr?"), ("deny", "expr?"), ("verdict", "scalar")),
    Holds: (("call", "expr"), ("arg", "int"), ("truth", "bool")),
    Caught: (("expr", "expr"), ("raised", "str"), ("handled", "strs"), ("if_caught", "bool")),
    Sink: (("kind", "str"), ("site", "site"), ("target", "expr"), ("data", "expr?"),
           ("method", "str")),
    FunctionSummary: (("qualname", "str"), ("params", "strs"), ("defaults", "env"),
                      ("bound", "int"), ("site", "site"), ("returns", "exprs"),
                      ("calls", "calls"), ("sinks", "sinks"), ("class_name", "str"),
                      ("annotations", "env"), ("decorators", "exprs"), ("kwonly", "int")),
    ClassSummary: (("qualname", "str"), ("bases", "exprs"), ("is_enum", "bool"),
                   ("methods", "strs"), ("fields", "kwargs"), ("dataclass", "bool"),
                   ("keywords", "kwargs")),
    ModuleSummary: (("module", "str"), ("path", "str"), ("globals", "env"),
                    ("imports", "strmap"), ("functions", "functions"), ("classes", "classes")),
    ChunkSummary: (("functions", "functions"), ("classes", "classes"), ("assigned", "assigned"),
                   ("calls", "calls"), ("sinks", "sinks"), ("returns", "exprs"), ("env", "env"),
                   ("cleared", "strs")),
}  # fmt: skip
TAGS = {kind: kind.__name__ for kind in SCHEMA}
KINDS = {name: kind for kind, name in TAGS.items()}
_LISTS = {"returns", "calls", "sinks", "assigned"}  # fields that are lists, not tuples


# -- encoding ------------------------------------------------------------------


def encode(value: ModuleSummary | ChunkSummary, line_shift: int = 0) -> bytes:
    """A summary (or any node of the schema) as JSON bytes, its line numbers moved by
    `line_shift` (a chunk is stored counting from its own first line)."""
    return encode_value(value, line_shift)


def encode_value(
    value: Any, line_shift: int = 0, digests: Mapping[int, str] | None = None
) -> bytes:
    """`digests` (by identity) stand for the parts whose digest is known already: a
    key, not a document to decode, written in the time of the new parts only."""
    table: list[list[Any]] = []
    ids: dict[int, int] = {}

    def node(item: Any) -> int:
        known = ids.get(id(item))
        if known is not None:
            return known
        digest = digests.get(id(item)) if digests and item is not value else None
        if digest is not None:
            ids[id(item)] = len(table)
            table.append(["#", digest])
            return ids[id(item)]
        kind = type(item)
        row: list[Any] = [TAGS[kind]]
        for name, how in SCHEMA[kind]:
            row.append(_encode_field(getattr(item, name), how, node))
        if kind is Site and line_shift:
            row = _shifted(row, line_shift)
        ids[id(item)] = len(table)
        table.append(row)
        return ids[id(item)]

    root = node(value)
    document = {"format": FORMAT, "root": root, "nodes": table}
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode("utf-8")


_PLAIN = frozenset({"str", "int", "bool", "scalar"})  # stored as they are


def _encode_field(value: Any, how: str, node: Callable[[Any], int]) -> Any:
    if how in _PLAIN:
        return value
    if how in ("expr", "site"):
        return node(value)
    if how == "expr?":
        return None if value is None else node(value)
    if how in ("exprs", "calls", "sinks"):
        return [node(v) for v in value]
    if how == "pairs":
        return [[node(k), node(v)] for k, v in value]
    if how in ("kwargs", "assigned"):
        return [[k, node(v)] for k, v in value]
    if how in ("env", "functions", "classes"):
        return {k: node(v) for k, v in value.items()}
    return list(value) if how == "strs" else dict(value)  # strmap


# -- decoding ------------------------------------------------------------------


def _shifted(row: list[Any], by: int) -> list[Any]:
    """A Site row with its line numbers (line, stmt_line, end_line) moved; 0 stays 0."""
    tag, line, col, stmt_line, text, end_line = row
    return [
        tag,
        line + by,
        col,
        stmt_line + by if stmt_line else 0,
        text,
        end_line + by if end_line else 0,
    ]


def decode(data: bytes, kind: type = ModuleSummary, line_shift: int = 0) -> Any:
    """A summary (of `kind`) from encoded bytes, its line numbers moved by `line_shift`;
    FormatError for anything else."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FormatError(f"not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise FormatError("not a summary of this format")
    built: list[Any] = []
    for row in _list(document.get("nodes")):
        decoder = (
            _DECODERS.get(row[0]) if type(row) is list and row and type(row[0]) is str else None
        )
        if decoder is None or len(row) != len(decoder[1]) + 1:
            raise FormatError("bad node")
        node_kind, fields = decoder
        if node_kind is Site and line_shift and all(type(row[n]) is int for n in (1, 3, 5)):
            row = _shifted(row, line_shift)  # anything else is refused by the readers
        node = object.__new__(node_kind)
        node.__dict__.update(
            {name: read(raw, built) for (name, read), raw in zip(fields, row[1:], strict=True)}
        )
        built.append(node)
    return _ref(document.get("root"), built, frozenset({kind}))


def _refs(raw: Any, built: list[Any], allowed: Kinds) -> dict[str, Any]:
    return {_str(k): _ref(v, built, allowed) for k, v in _dict(raw).items()}


Reader = Callable[[Any, list[Any]], Any]


def _reader(how: str, name: str) -> Reader:
    """The decoder of one field kind: checks the raw JSON value and builds it."""
    if how == "expr":
        return lambda raw, built: _ref(raw, built, _EXPRESSIONS)
    if how == "expr?":
        return lambda raw, built: None if raw is None else _ref(raw, built, _EXPRESSIONS)
    if how == "site":
        return lambda raw, built: _ref(raw, built, _SITE)
    if how in ("exprs", "calls", "sinks"):
        allowed = {"exprs": _EXPRESSIONS, "calls": _CALL, "sinks": _SINK}[how]
        shape = list if name in _LISTS else tuple
        return lambda raw, built: shape([_ref(v, built, allowed) for v in _list(raw)])
    if how == "pairs":
        return lambda raw, built: tuple(
            (_ref(p[0], built, _EXPRESSIONS), _ref(p[1], built, _EXPRESSIONS))
            for p in map(_pair, _list(raw))
        )
    if how in ("kwargs", "assigned"):
        shape = list if name in _LISTS else tuple
        return lambda raw, built: shape(
            (_str(p[0]), _ref(p[1], built, _EXPRESSIONS)) for p in map(_pair, _list(raw))
        )
    if how in ("env", "functions", "classes"):
        allowed = {"env": _EXPRESSIONS, "functions": _FUNCTION, "classes": _CLASS}[how]
        return lambda raw, built: _refs(raw, built, allowed)
    if how == "strmap":
        return lambda raw, built: {_str(k): _str(v) for k, v in _dict(raw).items()}
    if how == "strs":
        return lambda raw, built: tuple(_str(v) for v in _list(raw))
    return _SCALARS[how]


def _scalar(raw: Any, built: list[Any]) -> Any:
    if raw is None or type(raw) in (str, int, float, bool):
        return raw
    raise FormatError("expected a scalar")


def _typed(kind: type) -> Reader:
    def read(raw: Any, built: list[Any]) -> Any:
        if type(raw) is not kind:
            raise FormatError(f"expected {kind.__name__}")
        return raw

    return read


_SCALARS = {"str": _typed(str), "int": _typed(int), "bool": _typed(bool), "scalar": _scalar}
_DECODERS = {
    TAGS[kind]: (kind, tuple((name, _reader(how, name)) for name, how in fields))
    for kind, fields in SCHEMA.items()
}


def _ref(raw: Any, built: list[Any], allowed: Kinds) -> Any:
    """A reference to an earlier node of an allowed type (every node is built as
    exactly its schema class, so its type is looked up, not isinstance-checked)."""
    if type(raw) is not int or not 0 <= raw < len(built):
        raise FormatError("bad reference")
    value = built[raw]
    if type(value) not in allowed:
        raise FormatError("reference to a node of the wrong type")
    return value


def _list(raw: Any) -> list[Any]:
    if type(raw) is not list:
        raise FormatError("expected a list")
    return raw


def _dict(raw: Any) -> dict[str, Any]:
    if type(raw) is not dict:
        raise FormatError("expected an object")
    return raw


def _pair(raw: Any) -> list[Any]:
    if type(raw) is not list or len(raw) != 2:
        raise FormatError("expected a pair")
    return raw


def _str(raw: Any) -> str:
    if type(raw) is not str:
        raise FormatError("expected a string")
    return raw
