"""Instances after guards and assignments on their fields.

`if body.status == "running": raise` narrows `body.status` (guards.py), and
`job.status = JobStatus.pending` sets it; a later `body.model_dump()`,
`dataclasses.asdict(body)` or `vars(body)` reads the whole instance, and a call
`update_job(job)` passes it on: the instance dumped or passed carries the
attributes as they are there (values.Refined), and the solver reads them
(solve/models.py, solve/instances.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from kanban_audit.linter.summarize.names import dotted
from kanban_audit.linter.values import DUMP_METHODS, Attr, Expr, Refined

if TYPE_CHECKING:
    from kanban_audit.linter.summarize.interpreter import Env


def refine(node: cst.Call, func: Expr, env: Env) -> Expr:
    """The called expression, the instance a dump method reads refined."""
    if (
        isinstance(func, Attr)
        and func.name in DUMP_METHODS
        and isinstance(node.func, cst.Attribute)
    ):
        return Attr(refined(node.func.value, func.base, env), func.name)
    return func


def refined(node: cst.BaseExpression, value: Expr, env: Env) -> Expr:
    """The instance with the attributes guards narrowed or assignments set
    (`body.status`), if any."""
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
