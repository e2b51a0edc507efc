"""Where calls and statements are, from CPython's parser instead of LibCST's codegen.

LibCST's PositionProvider generates the code of the whole tree to find
positions, which costs several times the parse. The summary needs positions
only for calls and statements, and CPython's `ast` has them for a fraction of
that: both trees hold the same calls and statements, so pairing them in
source order gives each LibCST node its position. Each pairing is checked
against the text (the line at that column starts with the node's first
token); if anything disagrees, the file falls back to PositionProvider.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

Span = tuple[int, int, int]  # 1-based line, 0-based column (characters), end line


@dataclass(frozen=True)
class Positions:
    """Spans of Call nodes and start lines of statements, by node identity."""

    calls: dict[int, Span]
    statements: dict[int, int]

    def call(self, node: cst.Call) -> Span:
        return self.calls[id(node)]

    def line(self, node: cst.CSTNode) -> int:
        return self.statements[id(node)]


def find_positions(
    tree: cst.Module, statements: Sequence[ast.stmt], lines: list[bytes], offset: int
) -> Positions:
    """Positions of a chunk's nodes: from its `ast` statements when they pair up with
    the LibCST tree, else from LibCST. `lines` are the module's, `offset` the lines
    before the chunk (the LibCST tree of a chunk counts from 1)."""
    try:
        found = _from_ast(tree, statements, lines)
    except (ValueError, RecursionError, MemoryError):
        found = None
    return found if found is not None else _from_libcst(tree, offset)


# -- walking the LibCST tree in source order ------------------------------------

# Dataclass field order is source order except for these node types.
_SOURCE_ORDER: dict[type, tuple[str, ...]] = {
    cst.FunctionDef: ("decorators", "name", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "name", "bases", "keywords", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.MatchCase: ("pattern", "guard", "body"),
}
_FIELDS: dict[type, tuple[str, ...]] = {}
_WALKED: dict[type, bool] = {}  # isinstance on LibCST's abstract bases is slow: once a type
_STATEMENT_TYPES: dict[type, bool] = {}


def fields_of(kind: type) -> tuple[str, ...]:
    """A LibCST node type's fields, in source order: what its children are read from
    (`node.children` rebuilds the node to find them)."""
    names = _FIELDS.get(kind)
    if names is None:
        names = _SOURCE_ORDER.get(kind) or tuple(f.name for f in dataclasses.fields(kind))
        _FIELDS[kind] = names
    return names


# Nodes that hold no call and no statement (whitespace, comments, punctuation,
# operators, names and literals): most of a LibCST tree, never walked into.
_INERT = (
    cst.BaseParenthesizableWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
    cst.Comma,
    cst.Dot,
    cst.Colon,
    cst.Semicolon,
    cst.AssignEqual,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseUnaryOp,
    cst.BaseAugOp,
    cst.Name,
    cst.SimpleString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
)


def _walked(kind: type) -> bool:
    """Whether a field's value is a node that may hold a call or a statement."""
    found = _WALKED.get(kind)
    if found is None:
        found = _WALKED[kind] = issubclass(kind, cst.CSTNode) and not issubclass(kind, _INERT)
    return found


def _is_statement(kind: type) -> bool:
    found = _STATEMENT_TYPES.get(kind)
    if found is None:
        bases = (cst.BaseSmallStatement, cst.BaseCompoundStatement)
        found = _STATEMENT_TYPES[kind] = issubclass(kind, bases)
    return found


def _collect(tree: cst.Module) -> tuple[list[cst.Call], list[cst.CSTNode], list[cst.CSTNode]]:
    """Calls, statements (small and compound) and statement lines, in source order."""
    calls: list[cst.Call] = []
    statements: list[cst.CSTNode] = []
    lines: list[cst.CSTNode] = []
    todo: list[cst.CSTNode] = [tree]
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is cst.Call:
            calls.append(node)  # type: ignore[arg-type]
        elif kind is cst.SimpleStatementLine:
            lines.append(node)
        elif _is_statement(kind):
            statements.append(node)
        children: list[cst.CSTNode] = []
        for name in fields_of(kind):
            value = getattr(node, name)
            shape = type(value)
            if shape is list or shape is tuple:
                children.extend(v for v in value if _walked(type(v)))
            elif _walked(shape):
                children.append(value)
        todo.extend(reversed(children))
    return calls, statements, lines


# -- pairing with ast -------------------------------------------------------------


def _from_ast(tree: cst.Module, chunk: Sequence[ast.stmt], lines: list[bytes]) -> Positions | None:
    calls, statements, statement_lines = _collect(tree)
    ast_calls: list[ast.Call] = []
    ast_statements: list[ast.stmt] = []
    for node in ast.walk(ast.Module(body=list(chunk), type_ignores=[])):
        if isinstance(node, ast.Call):
            ast_calls.append(node)
        elif isinstance(node, ast.stmt):
            ast_statements.append(node)
    if len(ast_calls) != len(calls) or len(ast_statements) != len(statements):
        return None
    ast_calls.sort(key=_source_order)
    ast_statements.sort(key=_source_order)
    spans: dict[int, Span] = {}
    for node, found in zip(calls, ast_calls, strict=True):
        text = lines[found.lineno - 1] if found.lineno <= len(lines) else b""
        if not _starts_with(text, found.col_offset, _first_token(node.func)):
            return None
        column = len(text[: found.col_offset].decode("utf-8", "replace"))
        spans[id(node)] = (found.lineno, column, found.end_lineno or found.lineno)
    starts: dict[int, int] = {}
    for node, found in zip(statements, ast_statements, strict=True):
        kind = type(node).__name__
        if type(found).__name__.replace("Async", "") != _AST_NAMES.get(kind, kind):
            return None
        starts[id(node)] = found.lineno
    for line in statement_lines:
        starts[id(line)] = starts[id(line.body[0])]  # type: ignore[attr-defined]
    return Positions(spans, starts)


_AST_NAMES = {"Del": "Delete"}  # LibCST's statement names that differ from ast's


def _source_order(node: ast.expr | ast.stmt) -> tuple[int, int, int, int]:
    """Pre-order: by start, and the enclosing node first when two start together."""
    return (node.lineno, node.col_offset, -(node.end_lineno or 0), -(node.end_col_offset or 0))


def _first_token(node: cst.BaseExpression) -> bytes | None:
    """The text a (called) expression starts with, when cheap to tell."""
    while True:
        if getattr(node, "lpar", None):
            return b"("
        if isinstance(node, cst.Name):
            return node.value.encode("utf-8")
        if isinstance(node, (cst.Attribute, cst.Subscript)):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.ConcatenatedString):
            node = node.left
        elif isinstance(node, cst.SimpleString):
            return node.value[:1].encode("utf-8")
        else:
            return None


def _starts_with(line: bytes, column: int, token: bytes | None) -> bool:
    return token is None or line[column : column + len(token)] == token


def _from_libcst(tree: cst.Module, offset: int) -> Positions:
    from libcst.metadata import MetadataWrapper, PositionProvider

    where = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    calls: dict[int, Span] = {}
    statements: dict[int, int] = {}
    for node, span in where.items():
        if type(node) is cst.Call:
            calls[id(node)] = (span.start.line + offset, span.start.column, span.end.line + offset)
        elif isinstance(node, (cst.BaseStatement, cst.BaseSmallStatement)):
            statements[id(node)] = span.start.line + offset
    return Positions(calls, statements)
