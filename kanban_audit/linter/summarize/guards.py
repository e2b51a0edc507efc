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

from kanban_audit.linter.summarize.names import dotted, subject
from kanban_audit.linter.values import Call, Check, Expr, Holds, Lit, Narrowed, Param, Ref, Seq

if TYPE_CHECKING:
    from kanban_audit.linter.summarize.interpreter import Env, FunctionAnalyzer

# What a value is compared with: the node, and whether it is one value (`==`)
# rather than a container (`in`); or a call that tests it, with the argument's
# position and the verdict the branch takes (`(position, truth)`).
Bound = tuple[cst.BaseExpression, bool | tuple[int, bool]]
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
    if isinstance(test, cst.Call):
        return _verdicts(test)
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return [], []
    target = test.comparisons[0]
    op, left, right = target.operator, _named(test.left), _named(target.comparator)
    if isinstance(op, (cst.Equal, cst.NotEqual, cst.Is, cst.IsNot)):
        checked, other = (left, right) if subject(left) else (right, left)
        key = subject(checked)
        if key is None or subject(other) == key or _singleton(op, other):
            return [], []
        value = (other, True)
        fact_in: list[Fact] = [(key, checked, value, None)]
        fact_out: list[Fact] = [(key, checked, None, value)]
        return (fact_in, fact_out) if isinstance(op, (cst.Equal, cst.Is)) else (fact_out, fact_in)
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


def _singleton(op: cst.BaseCompOp, other: cst.BaseExpression) -> bool:
    """`x is None` (or True, False): an identity test that says nothing of a status."""
    singletons = ("None", "True", "False")
    return isinstance(op, (cst.Is, cst.IsNot)) and dotted(other) in singletons


def _verdicts(call: cst.Call) -> tuple[list[Fact], list[Fact]]:
    """`is_valid(s)` as a test: each positional argument is bounded by what the callee
    checks of it, on the branch where the call is true and on the one where it is not
    (solve/conditions.py reads the callee)."""
    when_true: list[Fact] = []
    when_false: list[Fact] = []
    for position, arg in enumerate(call.args):
        if arg.star or arg.keyword is not None:
            break
        key = subject(arg.value)
        if key is not None:
            when_true.append((key, arg.value, (call, (position, True)), None))
            when_false.append((key, arg.value, (call, (position, False)), None))
    return when_true, when_false


def verdict(fa: FunctionAnalyzer, test: cst.BaseExpression, env: Env) -> Expr | None:
    """A returned test of one parameter (`return s in ALLOWED`) as a value the callers
    can apply (values.Check); None when it is not one fact about one parameter."""
    when_true, _ = facts(fa, test)
    if len(when_true) != 1 or isinstance(test, cst.Call):
        return None
    _, node, allow, deny = when_true[0]
    checked = fa.expr(node, env)
    if not isinstance(checked, Param):
        return None
    return Check(checked, _read(fa, allow, env), _read(fa, deny, env))


def path_verdict(fa: FunctionAnalyzer, value: Expr, env: Env) -> Expr | None:
    """`return True` (or False) where one parameter is bounded by the guards met on
    the way (`if s not in ALLOWED: return False`): the constant under that bound
    (values.Check with a verdict); None when the value is not a constant truth or
    not one parameter is bounded."""
    if not (isinstance(value, Lit) and isinstance(value.value, bool)):
        return None
    bounded = [
        narrowed
        for name in fa.fn.params
        if isinstance(narrowed := env.get(name), Narrowed)
        and narrowed.expr == Param(fa.fn.qualname, name)
    ]
    if len(bounded) != 1:
        return None
    narrowed = bounded[0]
    return Check(narrowed.expr, narrowed.allow, narrowed.deny, value.value)


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
    """The environment with each fact's subject narrowed; a builtin (`tuple` in
    `isinstance(v, tuple)`) is a type or a function, no value a test bounds."""
    for key, node, allow, deny in found:
        checked = fa.expr(node, env)
        builtin = isinstance(checked, Ref) and checked.qual.startswith("builtins.")
        env[key] = (
            checked if builtin else Narrowed(checked, _read(fa, allow, env), _read(fa, deny, env))
        )
    return env


def _read(fa: FunctionAnalyzer, bound: Bound | None, env: Env) -> Expr | None:
    """The values a fact compares with, as a container."""
    if bound is None:
        return None
    node, how = bound
    value = fa.expr(node, env)
    if isinstance(how, tuple):
        return Holds(value, *how) if isinstance(value, Call) else None
    return Seq((value,)) if how else value
