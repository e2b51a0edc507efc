"""Decorators as values: `@retry(3)` above `def move(...)` is recorded as the
expression `retry(3)`, outermost first, for the solver to apply (what a call of
`move` then reaches is solve/decorators.py's question).

A decorator's own call runs when the module loads, not when the function is
called: it is kept as a value and not recorded among the calls, so that
`@router.post("/tasks")` does not become a call of every analysed `post`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from kanban_audit.linter.values import STAR, Expr, Param

if TYPE_CHECKING:
    from kanban_audit.linter.summarize.interpreter import Env, FunctionAnalyzer


def decorator_values(
    analyzer: FunctionAnalyzer, node: cst.FunctionDef, env: Env
) -> tuple[Expr, ...]:
    """The decorators of a definition, outermost first."""
    return tuple(_value(analyzer, d.decorator, env) for d in node.decorators)


def _value(analyzer: FunctionAnalyzer, node: cst.BaseExpression, env: Env) -> Expr:
    if isinstance(node, cst.Call):
        return analyzer.call_value(node, env)
    return analyzer.expr(node, env)


def star_parameter(qualname: str, name: str) -> Param:
    """What `*name` is inside the function: the positional arguments its parameters
    do not take, read at each call (solve/evaluate.py: argument)."""
    return Param(qualname, STAR + name)
