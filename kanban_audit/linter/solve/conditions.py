"""Calls used as conditions: a validating helper's test applied at the call.

A function whose every return is a truth value about one parameter bounds the
argument of a call that is a condition (`if not is_valid(s): raise`,
values.Holds): where the call is true, the value went through a return that
gives true, so it passes that return's bound (`return s in ALLOWED`, or
`return True` after `if s not in ALLOWED: return False`, values.Check); where
it is false, through one that gives false. An allow-list without the guarded
state is then a guard; one with it proves the bug. A callee with another kind
of return, a test of something else, or a callee not in the analysed code
bounds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Frame
from kanban_audit.linter.values import Check, Expr, Holds, Lit, Param

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
        if position >= len(fn.params) or not fn.returns:
            return NOTHING
        inner = ev.helper_frame(qual, holds.call, offset, frame)
        checked = Param(qual, fn.params[position])
        for ret in fn.returns:
            path = _path_bounds(ev, ret, checked, holds.truth, inner)
            if path is None:
                return NOTHING
            found += path
    return _union(found) if found else NOTHING


def _path_bounds(
    ev: Evaluator, ret: Expr, checked: Param, truth: bool, frame: Frame
) -> list[Bounds] | None:
    """The bounds under which one return gives `truth` ([] if it never does); None
    when the return says nothing of the checked parameter."""
    if isinstance(ret, Lit) and isinstance(ret.value, bool):
        return [NOTHING] if ret.value == truth else []
    if not isinstance(ret, Check) or ret.subject != checked:
        return None
    allow = ev.const_set(ret.allow, frame) if ret.allow is not None else None
    deny = ev.const_set(ret.deny, frame) if ret.deny is not None else frozenset()
    if (ret.allow is not None and allow is None) or deny is None:
        return None
    if ret.verdict is not None:
        return [(allow, deny)] if ret.verdict == truth else []
    if truth:
        return [(allow, deny)]
    if allow is None:  # it failed `not in deny`: it is in deny
        return [(deny, frozenset())]
    return [(None, allow)] if not deny else [NOTHING]


def _union(found: list[Bounds]) -> Bounds:
    """A value that passed one of these bounds: allowed by any, denied by all."""
    allowed: frozenset[str] = frozenset()
    denied: list[frozenset[str]] = []
    for allow, deny in found:
        if allow is None:
            denied.append(deny)
        else:
            allowed |= allow - deny
    if not denied:
        return allowed, frozenset()
    return None, frozenset.intersection(*denied) - allowed
