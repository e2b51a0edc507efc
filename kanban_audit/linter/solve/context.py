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
                return hit[2]
            if too_deep is not None and ctx.depth > MAX_DEPTH:
                result = too_deep(expr, frame)
            else:
                ctx.depth += 1
                try:
                    result = method(self, expr, frame)
                finally:
                    ctx.depth -= 1
            ctx.memo[key] = (expr, frame, result)
            return result

        wrapper.__name__ = name
        wrapper.__doc__ = method.__doc__
        return wrapper  # type: ignore[return-value]

    return decorate
