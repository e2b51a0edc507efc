"""Calls used as conditions: a validating helper's test applied at the call.

A function that returns one test of a parameter (`return status in ALLOWED`,
values.Test) bounds the argument of a call that is a condition
(`if not is_valid(s): raise`, values.Holds): where the call is true the value
passes the test, where it is false it fails it. An allow-list without the
guarded state is then a guard; one with it proves the bug. A callee that is
not one such test (several returns, a test of something else, a callee not
in the analysed code) bounds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Frame
from kanban_audit.linter.values import Holds, Param, Test

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

Bounds = tuple[frozenset[str] | None, frozenset[str]]  # allow (None: any), deny
NOTHING: Bounds = (None, frozenset())


def bounds(ev: Evaluator, holds: Holds, frame: Frame | None) -> Bounds:
    """What a value is known to be where a call testing it gave `holds.truth`."""
    found: list[Bounds] = []
    for target in ev.call_targets(holds.call.func, frame):
        if not isinstance(target, tuple):
            return NOTHING
        qual, offset = target
        fn = ev.index.functions[qual]
        position = holds.arg + offset
        returns = fn.returns
        if position >= len(fn.params) or len(returns) != 1 or not isinstance(returns[0], Test):
            return NOTHING
        test = returns[0]
        if test.subject != Param(qual, fn.params[position]):
            return NOTHING
        inner = Frame(qual, holds.call, "", offset, frame, on_path=False)
        allow = ev.const_set(test.allow, inner) if test.allow is not None else None
        deny = ev.const_set(test.deny, inner) if test.deny is not None else frozenset()
        if (test.allow is not None and allow is None) or deny is None:
            return NOTHING
        found.append((allow, deny))
    if len(set(found)) != 1:
        return NOTHING
    allow, deny = found[0]
    if holds.truth:
        return allow, deny
    if allow is None:  # it failed `not in deny`: it is in deny
        return deny, frozenset()
    return (None, allow) if not deny else NOTHING
