"""Which functions a call expression may invoke.

Plain names resolve through the index; `self.method()` through the class of
the calling method and its analysed subclasses (a base class's method reaches
the overrides of an abstract method); `obj.method()` through the classes `obj` may be an
instance of (receivers.py), else to every analysed method of that name;
dispatch tables (`HANDLERS[key](...)`) and conditional callees to every
entry they may hold;
`getattr(obj, name)(...)` to the functions the name can denote (dispatch.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve import dispatch, receivers
from kanban_audit.linter.values import (
    Attr,
    DictLit,
    Expr,
    Index,
    Narrowed,
    OneOf,
    Param,
    Ref,
    Seq,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

Callee = tuple[str, int]  # (function, leading parameters bound: self/cls)

# Method names of built-in types: never resolved to a user method by name alone.
BUILTIN_METHODS = frozenset(
    name for kind in (str, dict, list, set, tuple, bytes, int, object) for name in dir(kind)
) | {"execute", "executemany", "executescript", "query", "fetchone", "fetchall", "commit"}
MAX_DISPATCH = 6  # tables of tables of ... callables


def callees_of(ev: Evaluator, func: Expr, caller: str, nesting: int = 0) -> list[Callee]:
    """Functions a call expression may invoke, with how many leading params are bound."""
    if nesting > MAX_DISPATCH:
        return []
    index = ev.index
    if isinstance(func, Ref):
        target = index.resolve(func.qual)
        if target is None:
            return []
        kind, qual = target
        if kind == "function":
            return [(qual, 0)]
        if kind == "class":
            return index.method(qual, "__init__")
        if kind == "global":
            return callees_of(ev, index.globals[qual], caller, nesting + 1)
        return []
    if isinstance(func, Attr):
        return method_callees(ev, func, caller)
    if dispatch.is_lookup(func):
        return dispatch.lookup_callees(ev, func)
    if isinstance(func, (Index, OneOf, Narrowed)):
        found: list[Callee] = []
        for item in dispatch_items(ev, func):
            found += callees_of(ev, item, caller, nesting + 1)
        return found
    return []


def method_callees(ev: Evaluator, func: Attr, caller: str) -> list[Callee]:
    index = ev.index
    fn = index.functions.get(caller)
    base = func.base
    if isinstance(base, Param) and fn is not None and receivers.is_self(fn, base):
        # `self` may be an instance of any analysed subclass: each override is reached.
        classes: list[str] | None = [fn.class_name, *index.subclasses(fn.class_name)]
    else:
        classes = receivers.classes_of(index, base)
    if classes:
        found = [callee for cls in classes for callee in index.method(cls, func.name)]
        return list(dict.fromkeys(found))
    if func.name in BUILTIN_METHODS:
        return []
    # A receiver of no known type: any analysed method of that name.
    return [(index.denoted(qual), 1) for qual in index.methods_named(func.name)]


def dispatch_items(ev: Evaluator, expr: Expr) -> list[Expr]:
    """The entries a dispatch table lookup (or a conditional callee) can produce."""
    if isinstance(expr, Index):
        items: list[Expr] = []
        for base in ev.structures(expr.base, None):
            if isinstance(base, DictLit):
                items += [value for _, value in base.items]
            elif isinstance(base, Seq):
                items += list(base.items)
        return items
    if isinstance(expr, OneOf):
        return list(expr.options)
    if isinstance(expr, Narrowed):
        return [expr.expr]
    return []
