"""What a call returns, as structures its caller can read further.

A helper's return values are read in the call's frame; a returned structure
that mentions the helper's parameters (`return "blocked", KIND, (reason,)`)
is the same structure with each parameter replaced by what the call passes,
so that it means the same thing in the caller (`a, b, c = helper(...)`
unpacks each tuple the helper may return).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kanban_audit.linter.solve.atoms import Frame, binding
from kanban_audit.linter.values import Call, Expr, Param, Star, Stored, rebuilt

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator


def returned_structures(ev: Evaluator, call: Call, frame: Frame | None) -> list[Expr]:
    """What the called functions return, in the caller's terms; the call itself when a
    callee is not a plain function or is already being read (recursion)."""
    found: list[Expr] = []
    for target in ev.call_targets(call.func, frame):
        if not isinstance(target, tuple) or binding(frame, target[0]) is not None:
            return [call]
        qual, offset = target
        inner = ev.helper_frame(qual, call, offset, frame)
        for ret in ev.index.functions[qual].returns:
            for struct in ev.structures(ret, inner):
                found.append(_rewritten(ev, struct, inner))
    return found or [call]


def _rewritten(ev: Evaluator, struct: Expr, frame: Frame) -> Expr:
    """`in_caller`, made once per call of the helper: the arguments it puts in place
    are the call's own (unless it spreads `*args`), whatever frame the call is read in."""
    if any(isinstance(arg, Star) for arg in frame.call.args):
        return in_caller(ev, struct, frame)
    key = ("in caller", frame.func, frame.offset, id(struct), id(frame.call))
    return ev.remembered(ev.lasting, key, lambda: in_caller(ev, struct, frame), struct, frame.call)


def in_caller(ev: Evaluator, expr: Any, frame: Frame, memo: dict | None = None) -> Any:
    """`expr` with the parameters `frame` binds replaced by the call's arguments; each
    shared part rewritten once (`memo`), so a value joined from many branches costs
    its size, not its paths."""
    if isinstance(expr, Param):
        return ev.argument(frame, expr.name) if expr.func == frame.func else expr
    if isinstance(expr, (Stored, str)):  # read in any method, whatever the call passes;
        return expr  # a text holds no parameter
    memo = {} if memo is None else memo
    hit = memo.get(id(expr))
    if hit is None:
        hit = memo[id(expr)] = (expr, rebuilt(expr, lambda part: in_caller(ev, part, frame, memo)))
    return hit[1]
