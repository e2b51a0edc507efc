"""Type hints: the class a parameter is declared as, and a model's fields.

A request handler's `body: TaskPatch` says what the request data is: a model
whose keys are its fields, each bounded by its annotation. Annotations become
expressions the solver reads (solve/models.py): `Literal[...]` a sequence of
its values, `Optional[X]`, `Union[...]` and `X | Y` one of their members,
`Annotated[X, ...]` X, and names the class or type they refer to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from kanban_audit.linter.summarize.names import dotted
from kanban_audit.linter.values import Expr, Lit, OneOf, Ref, Seq, Unknown

if TYPE_CHECKING:
    from kanban_audit.linter.summarize.interpreter import Env, FunctionAnalyzer

_UNIONS = {"Optional", "Union"}
# `Mapped[X]`: an SQLAlchemy 2.x column holding X.
_WRAPPERS = {"Annotated", "Required", "NotRequired", "Final", "ClassVar", "Mapped"}
DATACLASS_DECORATORS = {"dataclass", "dataclasses.dataclass", "pydantic.dataclasses.dataclass"}


def annotation(fa: FunctionAnalyzer, node: cst.BaseExpression, env: Env) -> Expr:
    """An annotation as a value the solver can read (see the module docstring)."""
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        return OneOf((annotation(fa, node.left, env), annotation(fa, node.right, env)))
    if isinstance(node, cst.Subscript):
        kind = _kind(node)
        members = [
            element.slice.value for element in node.slice if isinstance(element.slice, cst.Index)
        ]
        if kind == "Literal":
            return Seq(tuple(_literal(fa, member, env) for member in members))
        if kind in _UNIONS:
            options = tuple(annotation(fa, member, env) for member in members)
            return OneOf(options + ((Lit(None),) if kind == "Optional" else ()))
        if kind in _WRAPPERS and members:
            return annotation(fa, members[0], env)
        return Unknown("annotation")
    if isinstance(node, (cst.Name, cst.Attribute)):
        return fa.expr(node, env)
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        try:  # a forward reference: "TaskPatch"
            return annotation(fa, cst.parse_expression(node.evaluated_value), env)
        except cst.ParserSyntaxError:
            return Unknown("annotation")
    return Unknown("annotation")


def _literal(fa: FunctionAnalyzer, member: cst.BaseExpression, env: Env) -> Expr:
    """A member of `Literal[...]`: a constant, or a name of one (an Enum member)."""
    constant = (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Name, cst.Attribute)
    return fa.expr(member, env) if isinstance(member, constant) else Unknown("annotation")


def _kind(node: cst.BaseExpression) -> str:
    """`Literal` for `Literal[...]` and `typing.Literal[...]`; "" if not subscripted."""
    if not isinstance(node, cst.Subscript):
        return ""
    return (dotted(node.value) or "").rsplit(".", 1)[-1]


def names_a_class(value: Expr) -> bool:
    """Whether an annotation may name a class of the analysed code (not a builtin)."""
    if isinstance(value, Ref):
        return not value.qual.startswith(("builtins.", "typing."))
    return isinstance(value, OneOf) and any(names_a_class(option) for option in value.options)


def parameter_annotations(
    fa: FunctionAnalyzer, params: list[cst.Param], env: Env
) -> dict[str, Expr]:
    """The parameters declared as a class (a request model, maybe)."""
    found: dict[str, Expr] = {}
    for param in params:
        if param.annotation is not None:
            value = annotation(fa, param.annotation.annotation, env)
            if names_a_class(value):
                found[param.name.value] = value
    return found


def class_fields(fa: FunctionAnalyzer, node: cst.ClassDef) -> tuple[tuple[str, Expr], ...]:
    """Annotated names of a class body, in order: a model's fields (not its ClassVars)."""
    fields: list[tuple[str, Expr]] = []
    for line in node.body.body:
        if not isinstance(line, cst.SimpleStatementLine):
            continue
        for small in line.body:
            if not (isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name)):
                continue
            declared = small.annotation.annotation
            if _kind(declared) != "ClassVar":
                fields.append((small.target.value, annotation(fa, declared, {})))
    return tuple(fields)


def is_dataclass(node: cst.ClassDef) -> bool:
    """`@dataclass`, `@dataclass(...)`, `@dataclasses.dataclass`, pydantic's."""
    for decorator in node.decorators:
        target = decorator.decorator
        if isinstance(target, cst.Call):
            target = target.func
        if dotted(target) in DATACLASS_DECORATORS:
            return True
    return False
