"""The call paths that decide what a write stores, read from the writer upwards.

A write whose SQL text is built from its function's parameters (a SET list
from a dict's keys), or whose values come from its `**kwargs` (the keywords of
each call), is read at each visible call of the function; and again at each
call of that caller while the text still depends on the caller's own
parameters (a `**changes` passed on), up to MAX_DEPTH calls and MAX_PATHS
paths (a path that stops early leaves the text with holes: unknown, not
lost). Each path is a chain of frames, the outermost call last.
"""

from __future__ import annotations

from dataclasses import replace

from kanban_audit.linter.solve import dispatch
from kanban_audit.linter.solve.atoms import Frame, Hole, Hop, binding, mentions_param
from kanban_audit.linter.solve.evaluate import Evaluator
from kanban_audit.linter.solve.program import Program
from kanban_audit.linter.solve.templates import marked_text
from kanban_audit.linter.sql import may_write
from kanban_audit.linter.values import STAR, Sink

MAX_DEPTH = 4
MAX_PATHS = 64


def call_paths(program: Program, sink: Sink, qual: str, stores: bool) -> list[Frame]:
    """The frames to read the write in; empty when the write is read alone.
    `stores`: the write, read alone, stores something in the status column."""
    found: list[Frame] = []
    todo: list[tuple[Frame | None, str, int]] = [(None, qual, 0)]
    while todo:
        frame, func, depth = todo.pop(0)
        # Every call of the writer is read; further out, as many paths as fit.
        room = depth == 0 or len(found) + len(todo) < MAX_PATHS
        needs = room and depth < MAX_DEPTH and needs_caller(program, sink, func, frame, stores)
        callers = program.graph.callers_of(func) if needs else []
        if not callers:
            if frame is not None:
                found.append(frame)
            continue
        for caller, call, offset in callers:
            outer = Frame(func, call, caller, offset, None, on_path=True)
            todo.append((_extend(frame, outer), caller, depth + 1))
    return found


def needs_caller(
    program: Program, sink: Sink, func: str, frame: Frame | None, stores: bool
) -> bool:
    """Whether the write depends on `func`'s parameters in a way only its calls
    settle: SQL text built from them that could be a write, or (for a write that
    stores in the status column) the `**keywords` or `*arguments` of each call."""
    if sink.kind == "sql":
        for template in program.ev.strings(sink.target, frame):
            text, holes = marked_text(template)
            if any(_open_in(program.ev, hole, func) for hole in holes) and may_write(text):
                return True
    return stores and frame is None and mentions_param(sink.data, func, prefix=STAR)


def hops(frame: Frame) -> tuple[Hop, ...]:
    """The calls of a path, the outermost first."""
    found: list[Hop] = []
    current: Frame | None = frame
    while current is not None:
        found.append(dispatch.hop(current.caller, current.func, current.call))
        current = current.parent
    return tuple(reversed(found))


def _open_in(ev: Evaluator, hole: Hole, func: str) -> bool:
    """Whether a hole still depends on a parameter of `func` that no frame binds
    (in its expression, or in what that expression resolves to).

    The instance a method is called on does not count: a call site binds
    `self` to a receiver, which tells nothing about its attributes.
    """
    if binding(hole.frame, func) is not None:
        return False
    fn = ev.index.functions[func]
    bound = frozenset(fn.params[: fn.bound])
    resolved = [hole.expr, *ev.structures(hole.expr, hole.frame)]
    return any(ev.mentions(expr, func, bound) for expr in resolved)


def _extend(frame: Frame | None, outer: Frame) -> Frame:
    """A path with one more call at its outer end."""
    return outer if frame is None else replace(frame, parent=_extend(frame.parent, outer))
