"""Containers combined by set algebra: `A | B`, `A & B`, `A - B` and the methods
`.union()`, `.intersection()`, `.difference()`.

Allow-lists and deny-lists are often built this way from constants
(`set(BOARD_COLUMNS) | {"archived"}`, `ALLOWED - {"running"}`). A union holds
the elements of every operand, whatever they are. An intersection or a
difference is folded only when every operand's strings are known: a partly
known result could be too large for a deny-list or too small for an
allow-list, so it stays unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.values import BinOp, Call, DictLit, Expr, Lit, Seq, Star

if TYPE_CHECKING:
    from kanban_audit.linter.solve.atoms import Frame
    from kanban_audit.linter.solve.evaluate import Evaluator

OPERATORS = frozenset("|&-")
METHODS = {"union": "|", "intersection": "&", "difference": "-"}


def combine(
    ev: Evaluator, op: str, operands: tuple[Expr, ...], whole: BinOp | Call, frame: Frame | None
) -> list[Expr]:
    """The structures of `whole`, the operands combined by `op`; `[whole]` when the
    result is not known."""
    if op == "|":
        return _union(ev, operands, frame)
    known = [ev.const_set(operand, frame) for operand in operands]
    strings = [found for found in known if found is not None]
    if len(strings) < len(operands):
        return [whole]
    result = set(strings[0])
    for other in strings[1:]:
        result = result & other if op == "&" else result - other
    return [Seq(tuple(Lit(value) for value in sorted(result)))]


def _union(ev: Evaluator, operands: tuple[Expr, ...], frame: Frame | None) -> list[Expr]:
    """Every operand's elements; dicts merged (`a | b` of dicts) when all are dicts."""
    pairs: list[tuple[Expr, Expr]] = []
    for operand in operands:
        structs = ev.structures(operand, frame)
        if len(structs) != 1 or not isinstance(structs[0], DictLit):
            return [Seq(tuple(Star(operand) for operand in operands))]
        pairs += structs[0].items
    return [DictLit(tuple(pairs))]
