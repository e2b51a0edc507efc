"""Decorator classes: `@retry` where `retry` is a class, and `@retry(3)` where
`retry(3)` makes an instance of one.

- `class retry: def __init__(self, func): self.func = func` with
  `def __call__(self, *args, **kwargs): return self.func(*args, **kwargs)`: the
  decorated name is an instance made of the function, and a call of it runs
  `__call__` with `self.func` that function. `__call__` is the wrapper.
- `class retry: def __init__(self, times): ...` with `def __call__(self, func):
  ... return wrapper`: `retry(3)` is an instance, and applying it runs
  `__call__(func)`, a decorator like any function decorator, whose `self.times`
  is what the decoration passed.

Either way `self.<field>` in `__call__` (and in the functions nested in it) is
what `__init__` stored there from the construction's arguments; a field stored
from anything but a parameter is left as it is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Frame
from kanban_audit.linter.values import Attr, Call, Expr, Param, Ref, Stored

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

Fields = dict[Expr, Expr]  # `self.x` as `__call__` reads it -> its value


def call_method(ev: Evaluator, expr: Expr) -> str | None:
    """The `__call__` of the analysed class an expression names, if it names one."""
    target = ev.index.resolve(expr.qual) if isinstance(expr, Ref) else None
    if not target or target[0] != "class":
        return None
    member = ev.index.class_member(target[1], "__call__")
    return member[1] if member and member[0] == "function" else None


def fields(ev: Evaluator, call_qual: str, construction: Call) -> Fields:
    """`self.<name>` in `__call__` -> what `__init__` stored in it for this construction."""
    index = ev.index
    cls = index.functions[call_qual].class_name
    init = index.class_member(cls, "__init__")
    if not init or init[0] != "function":
        return {}
    frame = Frame(init[1], construction, "", 1, None, on_path=False)
    instance = Param(call_qual, index.functions[call_qual].params[0])
    found: Fields = {}
    for owner in index.ancestors(cls):
        prefix = f"{owner}."
        for qual, value in index.globals.items():
            name = qual[len(prefix) :]
            if not qual.startswith(prefix) or "." in name or not isinstance(value, Stored):
                continue
            stored = value.value
            if value.func == init[1] and isinstance(stored, Param) and stored.func == init[1]:
                found.setdefault(Attr(instance, name), ev.argument(frame, stored.name))
    return found
