"""When a model instance built in the code reaches the database.

Building an instance (`Task(status=...)`, `Task.model_validate(data)`) writes
nothing by itself: the row is written once the instance is put into a session
or saved (the methods are data in orm.py). The instance is followed from the
call that builds it: into the arguments of a session's `add`/`add_all`/`merge`
(or a bulk save) or the receiver of `save()` in the same function; into a
function of the code it is passed to, as that parameter; back to each visible
caller of a function that returns it. Up to MAX_HOPS such steps; an instance
kept in an attribute, a container or a call the lint cannot follow is no write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kanban_audit.linter import orm
from kanban_audit.linter.solve.calls import callees_of
from kanban_audit.linter.values import Attr, Call, Expr, Param, Ref, Sink, walk

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

MAX_HOPS = 3
Match = Callable[[Expr], bool]


def persisted(ev: Evaluator, qual: str, sink: Sink) -> bool:
    """Whether the instance a building write makes (in function `qual`) is put into
    the database."""

    def built(expr: Expr) -> bool:
        if not isinstance(expr, Call) or expr.site != sink.site:
            return False
        func = expr.func
        by_method = isinstance(func, Attr) and func.name == sink.method
        return func == sink.target or (by_method and func.base == sink.target)  # type: ignore[union-attr]

    return _reaches(ev, qual, built, 0)


def _reaches(ev: Evaluator, qual: str, instance: Match, hops: int) -> bool:
    fn = ev.index.functions.get(qual)
    if fn is None:
        return False

    def holds(expr: Expr) -> bool:
        return any(instance(part) for part in walk(expr))

    for call in fn.calls:
        func = call.func
        # `session.add(...)`, or a name through a class: `Task.objects.bulk_create(...)`.
        name = func.name if isinstance(func, Attr) else ""
        name = func.qual.rsplit(".", 1)[-1] if isinstance(func, Ref) else name
        given = (*call.args, *(value for _, value in call.kwargs))
        if name in orm.PERSIST_METHODS and any(holds(arg) for arg in given):
            return True
        if name in orm.SAVE_METHODS and isinstance(func, Attr) and holds(func.base):
            return True
    if hops >= MAX_HOPS:
        return False
    for call in fn.calls:
        if _passed_on(ev, qual, call, holds, hops):
            return True
    if any(holds(value) for value in fn.returns):
        for caller, call, _ in ev.graph.callers_of(qual) if ev.graph else ():
            if _reaches(ev, caller, _the(call), hops + 1):
                return True
    return False


def _passed_on(ev: Evaluator, qual: str, call: Call, holds: Match, hops: int) -> bool:
    """Whether a call passes the instance to a function of the code that puts it in."""
    positions = [i for i, arg in enumerate(call.args) if holds(arg)]
    keywords = [name for name, value in call.kwargs if holds(value)]
    if not positions and not keywords:
        return False
    for callee, offset in callees_of(ev, call.func, qual):
        fn = ev.index.functions.get(callee)
        params = fn.params if fn is not None else ()
        names = [params[i + offset] for i in positions if i + offset < len(params)]
        names += [k for k in keywords if k in params]
        if any(_reaches(ev, callee, _the(Param(callee, n)), hops + 1) for n in names):
            return True
    return False


def _the(expr: Expr) -> Match:
    """A match of one expression: a parameter, or a call by its place and callee."""
    if isinstance(expr, Call):
        return lambda e: isinstance(e, Call) and e.site == expr.site and e.func == expr.func
    return lambda e: e == expr
