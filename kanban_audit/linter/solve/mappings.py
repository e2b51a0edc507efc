"""Mappings: dict views, `dict(...)`, and the keywords a `**kwargs` parameter receives.

A `**mapping` item of a dict display (values.spread_pair) stands for every
item of that mapping: in a view it is spread as `*` spreads a sequence, and a
lookup goes on into the mapping. A call's `**mapping` argument is a keyword
argument named SPREAD; a function's `**kwargs` parameter is the parameter
named SPREAD + its name, bound to the call's other keywords and spreads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kanban_audit.linter.values import (
    SPREAD,
    Attr,
    Call,
    Concat,
    DictLit,
    Expr,
    FunctionSummary,
    Index,
    Lit,
    Narrowed,
    Ref,
    Seq,
    Site,
    Star,
    one_of,
    spread_pair,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.atoms import Frame
    from kanban_audit.linter.solve.evaluate import Evaluator

VIEWS = ("keys", "values", "items")
# Where a view the solver builds itself is: nowhere in the source.
NOWHERE = Site(0, 0, 0)


def view_of(mapping: Expr, name: str) -> Call:
    """`mapping.keys()`, `.values()` or `.items()`, as the solver's own call."""
    return Call(Attr(mapping, name), (), (), NOWHERE)


def views(ev: Evaluator, call: Call, frame: Frame | None) -> list[Expr] | None:
    """The views of literal dicts as sequences, in order; None if not a view of one."""
    func = call.func
    if not (isinstance(func, Attr) and func.name in VIEWS and not call.args):
        return None
    found: list[Expr] = []
    for struct in ev.structures(func.base, frame):
        if not isinstance(struct, DictLit):
            return None
        found.append(Seq(tuple(_view_item(key, value, func.name) for key, value in struct.items)))
    return found


def _view_item(key: Expr, value: Expr, name: str) -> Expr:
    if isinstance(key, Star):
        return Star(view_of(key.expr, name))
    return key if name == "keys" else value if name == "values" else Seq((key, value))


def built_dict(call: Call) -> DictLit | None:
    """`dict(mapping, key=value, **more)`: None for any other call (and for
    `dict(x)` alone, which is x)."""
    if not (isinstance(call.func, Ref) and call.func.qual == "builtins.dict" and call.kwargs):
        return None
    pairs = [spread_pair(arg) for arg in call.args[:1]]
    pairs += [_keyword_pair(keyword, value) for keyword, value in call.kwargs]
    return DictLit(tuple(pairs))


def rest_keywords(fn: FunctionSummary, call: Call) -> DictLit:
    """What a `**kwargs` parameter receives: the keywords no other parameter takes,
    and every `**mapping` the call spreads."""
    pairs = [
        _keyword_pair(keyword, value)
        for keyword, value in call.kwargs
        if keyword == SPREAD or keyword not in fn.params
    ]
    return DictLit(tuple(pairs))


def spread_argument(call: Call, name: str, default: Expr | None) -> Expr | None:
    """A parameter the call may pass in a `**mapping`: the mapping's item (or the
    default, if it has none); None if the call spreads no mapping."""
    spreads = [Index(value, Lit(name)) for keyword, value in call.kwargs if keyword == SPREAD]
    if not spreads:
        return None
    return one_of(spreads + ([default] if default is not None else []))


def without(ev: Evaluator, struct: Expr, absent: Expr, frame: Frame | None) -> Expr:
    """A container known to lack the members `absent` holds (after `d.pop("status")`,
    `del d["status"]`, `if "status" in d: raise`): a literal dict without those
    keys, a literal sequence without those items; any other container narrowed,
    so that its elements are (a text stays the text it was)."""
    if isinstance(struct, (Lit, Concat)):
        return struct
    if isinstance(struct, DictLit):
        return DictLit(tuple(_absent_pairs(ev, struct, absent, frame)))
    if isinstance(struct, Seq):
        return Seq(tuple(_absent_items(ev, struct.items, absent, frame)))
    return Narrowed(struct, None, absent)


def _absent_pairs(
    ev: Evaluator, struct: DictLit, absent: Expr, frame: Frame | None
) -> Iterator[tuple[Expr, Expr]]:
    for key, value in struct.items:
        if isinstance(key, Star):
            yield spread_pair(Narrowed(key.expr, None, absent))
        elif not _is_absent(ev, key, absent, frame):
            yield Narrowed(key, None, absent), value


def _absent_items(
    ev: Evaluator, items: tuple[Expr, ...], absent: Expr, frame: Frame | None
) -> Iterator[Expr]:
    for item in items:
        if isinstance(item, Star):
            yield Star(Narrowed(item.expr, None, absent))
        elif not _is_absent(ev, item, absent, frame):
            yield Narrowed(item, None, absent)


def _is_absent(ev: Evaluator, member: Expr, absent: Expr, frame: Frame | None) -> bool:
    """Whether a member is known to be one of the absent ones."""
    values = ev.const_set(member, frame)
    gone = ev.const_set(absent, frame)
    return bool(values) and gone is not None and values <= gone  # type: ignore[operator]


def _keyword_pair(keyword: str, value: Expr) -> tuple[Expr, Expr]:
    return spread_pair(value) if keyword == SPREAD else (Lit(keyword), value)
