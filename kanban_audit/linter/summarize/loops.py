"""Loops: the lists a `for` loop appends to, one item per element of what it
iterates, and the environments its `break`s and `continue`s leave with.

`for k, v in fields.items(): sets.append(f"{k} = ?"); params.append(v)` leaves
`sets` as `[*(f"{k} = ?" for each element)]`: a spread of a comprehension over
the iterable, which the solver unrolls when the iterable is known, in the same
order for every list the loop grew. A guard on the loop variable around the
appends (`if k == "status": continue`) is the `if` clause of all of them.
Only a list that grows by one item built from the loop variable changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import libcst as cst

from kanban_audit.linter.values import Comp, Elem, Expr, Narrowed, OneOf, Seq, Star, walk

Env = dict[str, Expr]


@dataclass
class Exits:
    """Where a loop body leaves early: the environments at its `continue`s (they
    go round again, so they reach the loop's end) and at its `break`s (they reach
    the code after the loop, past its `else`)."""

    continued: list[Env] = field(default_factory=list)
    broken: list[Env] = field(default_factory=list)

    def leave(self, jump: cst.Break | cst.Continue, env: Env) -> None:
        (self.broken if isinstance(jump, cst.Break) else self.continued).append(env)


def per_element(before: Env, after: Env, iterable: Expr) -> Env:
    """The environment after a loop body, its lists grown once per element."""
    loop_variable = Elem(iterable)
    grown: dict[str, Expr] = {}
    for key, value in after.items():
        old = before.get(key)
        if (
            isinstance(old, Seq)
            and isinstance(value, Seq)
            and value.items[:-1] == old.items
            and len(value.items) == len(old.items) + 1
            and loop_variable in _nodes(value.items[-1])
        ):
            grown[key] = value.items[-1]
    if not grown:
        return after
    keep: list[Expr] = []
    for item in grown.values():
        for node in _nodes(item, into_choices=False):
            narrows = isinstance(node, Narrowed) and loop_variable in _nodes(node.expr)
            if narrows and node not in keep:
                keep.append(node)
    spread = {
        key: Seq(before[key].items + (Star(Comp(item, iterable, tuple(keep))),))  # type: ignore[union-attr]
        for key, item in grown.items()
    }
    return {**after, **spread}


def _nodes(expr: object, into_choices: bool = True) -> Iterator[object]:
    """Every node of an expression (not inside a choice's options, unless asked)."""
    return walk(expr, lambda node: into_choices or not isinstance(node, OneOf))
