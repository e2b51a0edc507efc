"""Comprehensions over known iterables, one item per element.

`", ".join(f"{k} = ?" for k in fields)` over a dict whose keys a call site
makes known is the text `title = ?, status = ?`, and `fields.values()`
binds its placeholders in the same order: each element of the iterable takes
the place of the loop variable (`Elem(over)` in the item), and an element the
`if` clauses exclude makes no item. An iterable not exactly known (an
unknown stretch, too many elements, more than one `for`) stays a Comp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kanban_audit.linter.values import Comp, DictLit, Elem, Expr, Narrowed, Seq, rebuilt

if TYPE_CHECKING:
    from kanban_audit.linter.solve.atoms import Frame
    from kanban_audit.linter.solve.evaluate import Evaluator

MAX_UNROLL = 64


def unrolled(ev: Evaluator, comp: Comp, frame: Frame | None) -> list[Expr] | None:
    """The comprehension as sequences, one per exact element list of its iterable."""
    if comp.over is None:
        return None
    loop_variable = Elem(comp.over)
    found: list[Expr] = []
    for members in ev.flatten(comp.over, frame):
        if None in members or len(members) > MAX_UNROLL:
            return None
        items = [
            substitute(comp.elt, loop_variable, member)
            for member in members
            if not _excluded(ev, comp, loop_variable, member, frame)
        ]
        found.append(Seq(tuple(items)))
    return found


def unrolled_dict(ev: Evaluator, mapping: DictLit, frame: Frame | None) -> list[Expr] | None:
    """A dict comprehension as dicts, one per exact element list of its iterable: each
    key with the value made from the same element (`{k: wrap(v) for k, v in
    kwargs.items()}` keeps `status` with what was passed as `status`)."""
    if not isinstance(mapping.comp, Comp):
        return None
    found: list[Expr] = []
    for seq in unrolled(ev, mapping.comp, frame) or ():
        pairs = [item.items for item in seq.items]  # type: ignore[attr-defined]
        if not all(isinstance(pair, tuple) and len(pair) == 2 for pair in pairs):
            return None
        found.append(DictLit(tuple(pairs)))
    return found or None


def _excluded(
    ev: Evaluator, comp: Comp, loop_variable: Expr, member: Expr | None, frame: Frame | None
) -> bool:
    """Whether an `if` clause rules the element out: the loop variable is a known
    constant that the clause's narrowing removes."""
    for kept in comp.keep:
        narrowed = substitute(kept, loop_variable, member)
        assert isinstance(narrowed, Narrowed)
        before = ev.values(narrowed.expr, frame)
        if before and all(a.kind == "const" for a in before) and not ev.values(narrowed, frame):
            return True
    return False


def substitute(expr: Any, old: Expr, new: Any, memo: dict[int, Any] | None = None) -> Any:
    """`expr` with every occurrence of `old` replaced by `new`; a part shared by
    several branches is rewritten once."""
    memo = {} if memo is None else memo
    if id(expr) in memo:
        return memo[id(expr)]
    result = new if expr == old else rebuilt(expr, lambda part: substitute(part, old, new, memo))
    memo[id(expr)] = result
    return result
