"""Partials kept at module or class level, called from anywhere.

`set_done = partial(set_status, status="done")` in one module and
`set_done(conn, task_id)` in another; `mark_done = partialmethod(set_status,
status="done")` in a class body and `store.mark_done(task_id)`. Each such
name becomes a function of its own, in the module that defines it: it takes
the wrapped function's remaining parameters and calls it with the partial's
arguments first, at the `partial(...)` call. That is where the values the
partial fixes enter, and where a finding about them belongs, as for a partial
kept in a local variable (summarize/partials.py).
"""

from __future__ import annotations

from kanban_audit.linter.solve.index import ProgramIndex
from kanban_audit.linter.values import PARTIALS, Call, FunctionSummary, Param, Ref

METHOD_PARTIAL = "functools.partialmethod"


def add(index: ProgramIndex) -> None:
    """Add a function for every module or class attribute that holds a partial of an
    analysed function (once; names resolved before are resolved again)."""
    added = False
    for summary in list(index.modules.values()):
        for qual, value in summary.globals.items():
            if qual in index.functions:
                continue
            made = _function(index, qual, value)
            if made is None:
                continue
            index.functions[qual] = made
            index.owner[qual] = summary
            if made.bound:
                index.methods_by_name.setdefault(qual.rsplit(".", 1)[1], []).append(qual)
            added = True
    if added:
        index.forget_resolved()


def _function(index: ProgramIndex, qual: str, value: object) -> FunctionSummary | None:
    """The function a partial global stands for, or None if it holds no partial of an
    analysed function."""
    if not (
        isinstance(value, Call)
        and isinstance(value.func, Ref)
        and value.func.qual in PARTIALS
        and value.args
        and isinstance(value.args[0], Ref)
    ):
        return None
    target = index.resolve(value.args[0].qual)
    if target is None or target[0] != "function":
        return None
    wrapped = index.functions[target[1]]
    method = value.func.qual == METHOD_PARTIAL and wrapped.bound > 0
    lead = wrapped.params[:1] if method else ()
    fixed = value.args[1:]
    fixed_names = {name for name, _ in value.kwargs}
    rest = tuple(p for p in wrapped.params[len(lead) + len(fixed) :] if p not in fixed_names)
    call = Call(
        Ref(target[1]),
        (*(Param(qual, p) for p in lead), *fixed),
        (*value.kwargs, *((p, Param(qual, p)) for p in rest)),
        value.site,
        value.spread,
    )
    return FunctionSummary(
        qual,
        (*lead, *rest),
        {p: wrapped.defaults[p] for p in rest if p in wrapped.defaults},
        1 if method else 0,
        value.site,
        returns=[call],
        calls=[call],
        class_name=wrapped.class_name if method else "",
    )
