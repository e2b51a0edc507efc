"""Texts laid out again with the same words: SQL a builder dedents and indents.

A query builder that keeps its SQL blocks at the indentation of the Python
around them (pgqueuer's SqlComposer) passes each one through
`textwrap.dedent(sql)`, `textwrap.indent(sql, "    ")` and
`"\\n".join(line for line in sql.splitlines() if line.strip())`. None of them
changes a word of the statement, so each is read as the text it is given. A
line filter is read as keeping every line: the text read may hold a line the
program drops, never lack one it keeps. An indent by anything but white space
(`"-- "` comments the lines out) is not the same text, and stays not known here.
"""

from __future__ import annotations

from kanban_audit.linter.values import Attr, Call, Comp, Elem, Expr, Lit, Ref

DEDENT = "textwrap.dedent"
INDENT = "textwrap.indent"
LINE_BREAKS = ("\n", "\r\n")


def same_words(call: Call) -> Expr | None:
    """The text a call lays out again, or None when it is no such call."""
    func = call.func
    if isinstance(func, Ref) and func.qual == DEDENT and len(call.args) == 1:
        return call.args[0]
    if isinstance(func, Ref) and func.qual == INDENT and len(call.args) == 2:
        prefix = call.args[1]
        blank = isinstance(prefix, Lit) and isinstance(prefix.value, str)
        return call.args[0] if blank and not prefix.value.strip() else None  # type: ignore[union-attr]
    if isinstance(func, Attr) and func.name == "join" and len(call.args) == 1:
        separator = func.base
        if isinstance(separator, Lit) and separator.value in LINE_BREAKS:
            return _split_text(call.args[0])
    return None


def _split_text(lines: Expr) -> Expr | None:
    """`sql` of `sql.splitlines()`, or of a comprehension taking its lines as they are."""
    if isinstance(lines, Comp) and lines.over is not None and lines.elt == Elem(lines.over):
        lines = lines.over
    split = isinstance(lines, Call) and isinstance(lines.func, Attr)
    if split and lines.func.name == "splitlines" and not lines.args:  # type: ignore[union-attr]
        return lines.func.base  # type: ignore[union-attr]
    return None
