"""Calls through `functools.partial`: `finish = partial(write, conn, status="done")`
then `finish(task_id)` is `write(conn, task_id, status="done")`.

The call is recorded as a call of the wrapped function with the partial's
arguments first, at the place of the `partial(...)` call: that is where the
values the partial fixes enter, and where a finding about them belongs.
"""

from __future__ import annotations

from kanban_audit.linter.values import PARTIALS, Call, Expr, Ref


def through_partial(func: Expr, call: Call) -> Call:
    """`call` of `func`, as a call of the function a partial wraps (or as it is)."""
    if not (isinstance(func, Call) and isinstance(func.func, Ref) and func.args):
        return call
    if func.func.qual not in PARTIALS:
        return call
    return Call(
        func.args[0],
        func.args[1:] + call.args,
        func.kwargs + call.kwargs,
        func.site,
        func.spread or call.spread,
    )
