"""Dumps of a model after guards on its fields.

`if body.status == "running": raise` narrows `body.status` (guards.py); a later
`body.model_dump()`, `dataclasses.asdict(body)` or `vars(body)` reads the whole
instance, so the instance it dumps carries the narrowed attributes
(values.Refined) and the solver's dump holds them (solve/models.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from kanban_audit.linter.summarize.names import dotted
from kanban_audit.linter.values import DUMP_FUNCTIONS, DUMP_METHODS, Attr, Expr, Ref, Refined

if TYPE_CHECKING:
    from kanban_audit.linter.summarize.interpreter import Env


def refine(node: cst.Call, func: Expr, args: list[Expr], env: Env) -> tuple[Expr, list[Expr]]:
    """The called expression and the arguments, the dumped instance refined."""
    if (
        isinstance(func, Attr)
        and func.name in DUMP_METHODS
        and isinstance(node.func, cst.Attribute)
    ):
        return Attr(_refined(node.func.value, func.base, env), func.name), args
    if isinstance(func, Ref) and func.qual in DUMP_FUNCTIONS and len(args) == 1 and node.args:
        return func, [_refined(node.args[0].value, args[0], env)]
    return func, args


def _refined(node: cst.BaseExpression, value: Expr, env: Env) -> Expr:
    """The instance with the attributes guards narrowed (`body.status`), if any."""
    key = dotted(node)
    if key is None:
        return value
    prefix = f"{key}."
    attrs = tuple(
        (name[len(prefix) :], narrowed)
        for name, narrowed in env.items()
        if name.startswith(prefix) and name[len(prefix) :].isidentifier()
    )
    return Refined(value, attrs) if attrs else value
