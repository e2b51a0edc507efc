"""One evaluation's state and its single budget, as astroid's inference context.

The memo makes shared sub-expressions cost once; the step budget stops
pathological programs (a write whose values would take longer to follow than
any real code needs is reported, not dropped); the nesting depth turns a
value nested too deeply (or defined in terms of itself) into an unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

STEP_LIMIT = 200_000
# The reason a write's value is not followed further: reported as KA002, never dropped.
BUDGET = "analysis budget exceeded"
MAX_DEPTH = 24

F = TypeVar("F", bound=Callable[..., Any])


class TooComplex(Exception):
    """A value took more evaluation steps than any real code needs."""


@dataclass
class Context:
    memo: dict[tuple[str, int, int], tuple[Any, Any, Any]] = field(default_factory=dict)
    # The frame of each call of a helper read for what it returns, made once: the memo
    # keys frames by identity, so a helper called in many texts is read once per call.
    frames: dict[tuple[str, int, int, int], Any] = field(default_factory=dict)
    steps: int = 0
    depth: int = 0
    # The deepest nesting an evaluation was asked at, and whether one was cut there:
    # what is shared across budgets (`Frameless`) must not depend on where it was asked.
    peak: int = 0
    truncated: bool = False
    # How many evaluations kept across budgets (`Frameless`) are being worked out:
    # what one reads from the memo it must record as read.
    framing: int = 0


@dataclass
class Frameless:
    """An evaluation with no call frame, kept across the budgets of one program (the
    writes decided one after another read the same names, settings and builders):
    with what it read (solve/reads.py, replayed into each decision that uses it),
    the steps it spent (charged again), and how much deeper than where it was asked
    it nested (so that it is used only where it would not have been cut)."""

    expr: Any
    result: Any
    reads: Any
    steps: int
    height: int


def memoized(too_deep: Callable[[Any, Any], Any] | None) -> Callable[[F], F]:
    """Cache an evaluation per (expression, frame) in the evaluator's context.

    Expressions and frames are immutable and the memo holds them, so their ids
    stay unique while it lives. Each call spends one step; past MAX_DEPTH
    nested evaluations, `too_deep(expr, frame)` is the answer (if given).
    """

    def decorate(method: F) -> F:
        name = method.__name__

        def wrapper(self: Any, expr: Any, frame: Any) -> Any:
            ctx: Context = self.ctx
            ctx.steps += 1
            if ctx.steps > STEP_LIMIT:
                raise TooComplex
            key = (name, id(expr), id(frame))
            hit = ctx.memo.get(key)
            if hit is not None:
                if ctx.framing and frame is None:
                    _replayed(self, name, expr)
                return hit[2]
            if frame is None and self.index.reads is not None and not ctx.truncated:
                result = _frameless(self, name, expr, evaluate)
            else:
                result = evaluate(self, expr, frame)
            ctx.memo[key] = (expr, frame, result)
            return result

        def evaluate(self: Any, expr: Any, frame: Any) -> Any:
            ctx: Context = self.ctx
            ctx.peak = max(ctx.peak, ctx.depth)
            if too_deep is not None and ctx.depth > MAX_DEPTH:
                ctx.truncated = True
                return too_deep(expr, frame)
            ctx.depth += 1
            try:
                return method(self, expr, frame)
            finally:
                ctx.depth -= 1

        wrapper.__name__ = name
        wrapper.__doc__ = method.__doc__
        return wrapper  # type: ignore[return-value]

    return decorate


def _frameless(ev: Any, name: str, expr: Any, evaluate: Callable[..., Any]) -> Any:
    """An evaluation with no frame, from the evaluator's `frameless` store when it was
    made in this program without being cut, else made (and stored if it was not cut).
    Its reads are recorded in the decision that asks, whether made or replayed."""
    ctx: Context = ev.ctx
    key = (name, id(expr))
    kept = ev.frameless.get(key)
    if kept is not None and ctx.depth + kept.height <= MAX_DEPTH:
        ctx.steps += kept.steps - 1
        if ctx.steps > STEP_LIMIT:
            raise TooComplex
        ctx.peak = max(ctx.peak, ctx.depth + kept.height)
        ev.replay(kept.reads)
        return kept.result
    outer = ev.index.reads
    own = ev.index.reads = type(outer)()
    steps, peak, start = ctx.steps, ctx.peak, ctx.depth
    ctx.peak = start
    ctx.framing += 1
    try:
        result = evaluate(ev, expr, None)
    finally:
        ctx.framing -= 1
        ev.index.reads = outer
        outer.merge(own)
        height = ctx.peak - start
        ctx.peak = max(peak, ctx.peak)
    if not ctx.truncated:
        ev.frameless[key] = Frameless(expr, result, own, ctx.steps - steps + 1, height)
    return result


def _replayed(ev: Any, name: str, expr: Any) -> None:
    """Record, in the evaluation being kept, what a memo entry with no frame that it
    reuses read (kept with it, unless a cut evaluation made it: then nothing made
    after it is kept)."""
    kept = ev.frameless.get((name, id(expr)))
    if kept is not None:
        ev.replay(kept.reads)
