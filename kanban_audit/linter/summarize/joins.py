"""Values where branches meet: joined once, not once per path.

After `if opts.get(k): s = s.strip()` the value of `s` is one of two; after
thirty such `if`s a value that remembered every path would have 2**30
shapes. A text method applied to a joined value is the join of the method
applied to each option, and a method that cannot change its own result
(`strip`, `lower`...) applied twice is applied once. The result does not
depend on where the method was called (the call itself is recorded where it
is), so the same method on the same option met on two branches is one
option: the value stays the size of its distinct options, however many
branches rebuilt it.
"""

from __future__ import annotations

from kanban_audit.linter.values import STRING_METHODS, Attr, Call, Expr, OneOf, Site, one_of

ANYWHERE = Site(0, 0, 0)


def text_method(call: Call) -> Expr:
    """The value of `base.method()` for a text method with no arguments: spread
    over the options of a joined base, each repeat of the method dropped."""
    func = call.func
    if not (isinstance(func, Attr) and func.name in STRING_METHODS) or call.args or call.kwargs:
        return call
    if isinstance(func.base, OneOf):
        return one_of([_once(option, func.name) for option in func.base.options])
    return _once(func.base, func.name)


def _once(base: Expr, method: str) -> Expr:
    return base if _applies(base, method) else Call(Attr(base, method), (), (), ANYWHERE)


def _applies(value: Expr, method: str) -> bool:
    """Whether the value is already the result of `method` with no arguments."""
    return (
        isinstance(value, Call)
        and isinstance(value.func, Attr)
        and value.func.name == method
        and not value.args
        and not value.kwargs
    )
