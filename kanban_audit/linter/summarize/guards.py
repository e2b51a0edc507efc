"""Guards: what a test proves about a value on each branch.

`if s == "running": raise` leaves `s` not running after it; `if s not in
ALLOWED: return` leaves `s` in ALLOWED; `not`, `and` and `or` combine. The
subject may be a name (bound by a walrus in the test itself: `(s := ...) ==
"running"`), an attribute (`patch.status`) or an item (`body["status"]`). A
fact narrows the subject's value (values.Narrowed). The compared value or
container is read where the fact applies, so a local allow-list (`allowed =
set(COLUMNS) | {...}`) counts as much as a constant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from kanban_audit.linter.summarize.names import subject
from kanban_audit.linter.values import Expr, Narrowed, Seq

if TYPE_CHECKING:
    from kanban_audit.linter.summarize.interpreter import Env, FunctionAnalyzer

# What a value is compared with: the node, and whether it is one value (`==`)
# rather than a container (`in`).
Bound = tuple[cst.BaseExpression, bool]
# A guard's effect on one variable: (key, node, allow, deny).
Fact = tuple[str, cst.BaseExpression, Bound | None, Bound | None]


def facts(fa: FunctionAnalyzer, test: cst.BaseExpression) -> tuple[list[Fact], list[Fact]]:
    """What a test proves on its true and on its false branch."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        when_true, when_false = facts(fa, test.expression)
        return when_false, when_true
    if isinstance(test, cst.BooleanOperation):
        left_t, left_f = facts(fa, test.left)
        right_t, right_f = facts(fa, test.right)
        if isinstance(test.operator, cst.And):
            return left_t + right_t, []
        return [], left_f + right_f
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return [], []
    target = test.comparisons[0]
    op, left, right = target.operator, _named(test.left), _named(target.comparator)
    if isinstance(op, (cst.Equal, cst.NotEqual)):
        checked, other = (left, right) if subject(left) else (right, left)
        key = subject(checked)
        if key is None or subject(other) == key:
            return [], []
        value = (other, True)
        fact_in: list[Fact] = [(key, checked, value, None)]
        fact_out: list[Fact] = [(key, checked, None, value)]
        return (fact_in, fact_out) if isinstance(op, cst.Equal) else (fact_out, fact_in)
    if isinstance(op, (cst.In, cst.NotIn)):
        key = subject(left)
        if key is None:
            return _absent(left, right, isinstance(op, cst.In))
        container = (right, False)
        fact_in = [(key, left, container, None)]
        fact_out = [(key, left, None, container)]
        return (fact_in, fact_out) if isinstance(op, cst.In) else (fact_out, fact_in)
    return [], []


def _named(node: cst.BaseExpression) -> cst.BaseExpression:
    """`(s := body["status"])` is checked as `s`: the walrus has bound it already."""
    if isinstance(node, cst.NamedExpr) and isinstance(node.target, cst.Name):
        return node.target
    return node


def _absent(
    member: cst.BaseExpression, container: cst.BaseExpression, is_in: bool
) -> tuple[list[Fact], list[Fact]]:
    """`"status" in fields`: where it fails, the container lacks that key (or item)."""
    key = subject(container)
    if key is None or not isinstance(member, (cst.SimpleString, cst.ConcatenatedString)):
        return [], []
    absent: list[Fact] = [(key, container, None, (member, True))]
    return ([], absent) if is_in else (absent, [])


def apply(fa: FunctionAnalyzer, found: list[Fact], env: Env) -> Env:
    """The environment with each fact's subject narrowed."""
    for key, node, allow, deny in found:
        env[key] = Narrowed(fa.expr(node, env), _read(fa, allow, env), _read(fa, deny, env))
    return env


def _read(fa: FunctionAnalyzer, bound: Bound | None, env: Env) -> Expr | None:
    """The values a fact compares with, as a container."""
    if bound is None:
        return None
    node, single = bound
    value = fa.expr(node, env)
    return Seq((value,)) if single else value
