"""An item taken out of a sequence is one of its elements, as its filters left them.

`next(s for s in states if s != "running")`, `next(gen, "ready")` (or the
default), `min(xs)`/`max(xs)` (`min(a, b)`: one of the arguments) and `xs[0]`
of a comprehension (whose positions are not known) are each an element of
the sequence: a comprehension's element carries its `if` clauses, so the item
picked from `[s for s in states if s != "running"]` is never `running`.
"""

from __future__ import annotations

from kanban_audit.linter.values import Call, Comp, Elem, Expr, Ref, Star

PICKERS = {"builtins.next", "builtins.min", "builtins.max"}


def picked(call: Call) -> list[Expr] | None:
    """What `next(...)`, `min(...)` or `max(...)` returns; None for any other call."""
    func = call.func
    if not (isinstance(func, Ref) and func.qual in PICKERS and call.args) or call.spread:
        return None
    if any(isinstance(arg, Star) for arg in call.args):
        return None
    if func.qual == "builtins.next":
        return [Elem(call.args[0]), *call.args[1:2]]
    if len(call.args) > 1:
        return list(call.args)
    return [Elem(call.args[0]), *(value for key, value in call.kwargs if key == "default")]


def item(struct: Expr) -> Expr | None:
    """`struct[i]` of a comprehension: some element of it; None for other sequences."""
    return Elem(struct) if isinstance(struct, Comp) else None
