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

A value narrowed by a test on one branch and by its negation on the other,
and left as it was on both, is after them the value before the test: the
join does not keep both narrowings (an `elif` chain on one name would nest
them once per branch).

A text extended on a branch (`if f: sql += " AND f = ?"`) is the text before
it followed by the extension or nothing: one more part, not one more
nesting of every text the branches before it could build.
"""

from __future__ import annotations

from kanban_audit.linter.values import (
    STRING_METHODS,
    Attr,
    BinOp,
    Call,
    Concat,
    Expr,
    Lit,
    Narrowed,
    OneOf,
    Site,
    equal,
    one_of,
)

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


def complementary(before: Expr, when_true: Expr, when_false: Expr) -> bool:
    """Whether `before`, narrowed to `when_true` on one branch and `when_false` on
    the other, is kept whole by the two: one allows exactly what the other denies."""
    if not (isinstance(when_true, Narrowed) and isinstance(when_false, Narrowed)):
        return False
    if when_true.expr is not before or when_false.expr is not before:
        return False
    for a, b in ((when_true, when_false), (when_false, when_true)):
        if a.deny is None and b.allow is None and a.allow is not None and b.deny is not None:
            return equal(a.allow, b.deny)
    return False


def joined(a: Expr, b: Expr) -> Expr:
    """The value of a variable that is `a` on one branch and `b` on the other."""
    for longer, shorter in ((a, b), (b, a)):
        extension = _extension(longer, shorter)
        if extension is not None:
            return Concat((*_parts(shorter), one_of([extension, Lit("")])))
    both = isinstance(a, BinOp) and isinstance(b, BinOp) and a.op == b.op == "+"
    if both and a.left is b.left and _textual(a.right) and _textual(b.right):  # type: ignore[union-attr]
        return Concat((*_parts(a.left), one_of([a.right, b.right])))  # type: ignore[union-attr]
    return one_of([a, b])


def _extension(longer: Expr, shorter: Expr) -> Expr | None:
    """What text `longer` adds to `shorter` (`shorter + " ..."`), if that is all."""
    if isinstance(longer, BinOp) and longer.op == "+" and longer.left is shorter:
        return longer.right if _textual(longer.right) else None
    if isinstance(longer, Concat) and _textual(shorter):
        head = _parts(shorter)
        rest = longer.parts[len(head) :]
        same = len(longer.parts) > len(head)
        if same and all(x is y for x, y in zip(longer.parts, head, strict=False)):
            return rest[0] if len(rest) == 1 else Concat(rest)
    return None


def _textual(value: Expr) -> bool:
    return isinstance(value, Concat) or (isinstance(value, Lit) and isinstance(value.value, str))


def _parts(value: Expr) -> tuple[Expr, ...]:
    return value.parts if isinstance(value, Concat) else (value,)
