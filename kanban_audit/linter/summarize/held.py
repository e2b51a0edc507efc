"""Lists and dicts held in attributes: what code appends to `obj.x` or sets in it.

`self.fragments.append(sql)` in a method adds an item to the class's
`fragments`: read in any method (`",\\n".join(self.fragments)`), the list holds
what every append in the class adds, in the order the appends are written, each
item the value appended there (a value stored in the instance: its parameters
are read at every call of the method that appends it). `self.cache[key] = sql`
adds an entry alike, read back by `self.cache[k]` or `self.cache.get(k)`.

This over-approximates: every instance's list holds what any instance's methods
append (a builder's `cte()` called for two statements adds to both), an item
removed or a list cleared is still there, and a method that appends on some
calls only appends on all of them. The lint reads a write in such a list as a
write of any statement the list is joined into; that may report a statement
that never holds it, never miss one that does.

Inside one function, `c.fragments.append(sql)` on another object (a local
`c = Composer()`, a parameter) extends this function's view of `c.fragments`:
what it held before (read from its class, or not known here), then the items
appended here, in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from kanban_audit.linter.values import DictLit, Expr, Param, Seq, Star, Stored, spread_pair

if TYPE_CHECKING:
    from kanban_audit.linter.summarize.interpreter import Env, FunctionAnalyzer

ADDERS = ("append", "extend")


def instance_class(fa: FunctionAnalyzer, receiver: cst.BaseExpression, env: Env) -> str:
    """The class whose instance `receiver` is, when it is the `self` of the method being
    read (or of the method a nested function sits in); "" otherwise."""
    if not isinstance(receiver, cst.Name):
        return ""
    value = fa.lookup(receiver.value, env)
    if not isinstance(value, Param):
        return ""
    method = fa.mod.chunk.functions.get(value.func)
    if method is None or not (method.bound and method.class_name):
        return ""
    return method.class_name if method.params[0] == value.name else ""


def added(fa: FunctionAnalyzer, held: cst.Attribute, method: str, arg: Expr, env: Env) -> None:
    """`obj.x.append(v)` / `obj.x.extend(vs)`: one more item (or items) of `obj.x`."""
    if method not in ADDERS:
        return
    item = _stored(fa, held, arg)
    _add(fa, held, Star(item) if method == "extend" else item, env, Seq)


def item_set(fa: FunctionAnalyzer, held: cst.Attribute, key: Expr, value: Expr, env: Env) -> None:
    """`obj.x[key] = value`: one more entry of the dict `obj.x`."""
    _add(fa, held, (key, _stored(fa, held, value)), env, DictLit)


def _stored(fa: FunctionAnalyzer, held: cst.Attribute, value: Expr) -> Expr:
    """The value as stored in the instance where it enters (read at every call)."""
    site = fa.mod.statement_site(fa.stmt_line)
    return Stored(value, fa.fn.qualname, _spelled(held), site)


def _add(
    fa: FunctionAnalyzer,
    held: cst.Attribute,
    item: Expr | tuple[Expr, Expr],
    env: Env,
    kind: type[Seq] | type[DictLit],
) -> None:
    cls = instance_class(fa, held.value, env)
    if cls:
        _add_to_class(fa, f"{cls}.{held.attr.value}", item, kind)
        return
    key = _spelled(held)
    if not key or "." not in key:
        return
    current = env.get(key)
    if current is not None and not isinstance(current, kind):
        # Branches met (or a guard bounded the view): it is not followed further, as
        # views kept on a hundred branches would unfold into 2**100 of them.
        env.pop(key)
        return
    if current is None:
        before = fa.expr(held, env)
        current = Seq((Star(before),)) if kind is Seq else DictLit((spread_pair(before),))
    env[key] = kind(current.items + (item,))  # type: ignore[arg-type, operator]


def _add_to_class(
    fa: FunctionAnalyzer, qual: str, item: Expr | tuple[Expr, Expr], kind: type
) -> None:
    """Extend the class attribute's one list (or dict) of what its methods add, kept
    among the chunk's assignments: appends in order, one value for all of them."""
    assigned = fa.mod.chunk.assigned
    at = fa.mod.held.get((qual, kind.__name__))
    if at is None:
        fa.mod.held[(qual, kind.__name__)] = len(assigned)
        assigned.append((qual, kind((item,))))
        return
    current = assigned[at][1]
    assigned[at] = (qual, kind(current.items + (item,)))  # type: ignore[union-attr]


def _spelled(held: cst.Attribute) -> str:
    """`self.fragments`, as written; "" for an attribute of something not a name."""
    base = held.value
    return f"{base.value}.{held.attr.value}" if isinstance(base, cst.Name) else ""
