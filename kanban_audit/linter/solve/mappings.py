"""Mappings: dict views, `dict(...)`, and the keywords a `**kwargs` parameter receives.

A `**mapping` item of a dict display (values.spread_pair) stands for every
item of that mapping: in a view it is spread as `*` spreads a sequence, and a
lookup goes on into the mapping. A call's `**mapping` argument is a keyword
argument named SPREAD; a function's `**kwargs` parameter is the parameter
named SPREAD + its name, bound to the call's other keywords and spreads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.values import (
    SPREAD,
    Attr,
    Call,
    DictLit,
    Expr,
    FunctionSummary,
    Index,
    Lit,
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


def _keyword_pair(keyword: str, value: Expr) -> tuple[Expr, Expr]:
    return spread_pair(value) if keyword == SPREAD else (Lit(keyword), value)
