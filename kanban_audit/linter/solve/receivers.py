"""Receivers by type: the classes an object a method is called on may belong to.

`self` is an instance of its method's class; a parameter or a class field
annotated with a class is one of it; `Cls(...)` (also through a local) is one;
`self.dao` is whatever every method of the class stores in it
(`self.dao = RunDAO(db)` in `__init__`). When every way the object is made
is known, `obj.method()` resolves to those classes' methods, not to another
class's method of the same name; otherwise the type is not known here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve import fielddefaults
from kanban_audit.linter.values import (
    Attr,
    Call,
    Expr,
    FunctionSummary,
    Lit,
    Narrowed,
    OneOf,
    Param,
    Ref,
    Stored,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.index import ProgramIndex

MAX_DEPTH = 4


def classes_of(index: ProgramIndex, obj: Expr, depth: int = 0) -> list[str] | None:
    """The analysed classes `obj` may be an instance of; None when not known."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(obj, Param):
        fn = index.functions.get(obj.func)
        if fn is None:
            return None
        if is_self(fn, obj):
            return [fn.class_name]
        declared = fn.annotations.get(obj.name)
        return declared_classes(index, declared, True) if declared is not None else None
    if isinstance(obj, Call) and isinstance(obj.func, Ref):
        return _made(index, obj, depth)
    if isinstance(obj, (Stored, Narrowed)):
        return classes_of(index, obj.value if isinstance(obj, Stored) else obj.expr, depth + 1)
    if isinstance(obj, OneOf):
        return _union([classes_of(index, option, depth + 1) for option in obj.options])
    if isinstance(obj, Attr):
        return _attribute(index, obj, depth)
    return None


def is_self(fn: FunctionSummary, param: Param) -> bool:
    """Whether a parameter is the instance a method was called on."""
    return bool(fn.bound and fn.class_name and fn.params and param.name == fn.params[0])


def _made(index: ProgramIndex, call: Call, depth: int) -> list[str] | None:
    """`Cls(...)`; a field declaration's default (`field(default_factory=Cls)`); a
    function's call is what each of its returns makes (`db_settings()` returning
    `DBSettings()`)."""
    assert isinstance(call.func, Ref)
    default = fielddefaults.declared(index, call)
    if default is not None:
        return classes_of(index, default, depth + 1)
    target = index.resolve(call.func.qual)
    if target and target[0] == "function":
        returns = index.functions[target[1]].returns
        return _union([classes_of(index, ret, depth + 1) for ret in returns])
    return declared_classes(index, call.func, False)


def _attribute(index: ProgramIndex, attr: Attr, depth: int) -> list[str] | None:
    """`self.x` (or `obj.x` of an object whose class is known: `self.qb.settings`): what
    the class declares `x` as, else what its methods store in it."""
    owners = classes_of(index, attr.base, depth + 1)
    if not owners:
        return None
    found: list[list[str] | None] = []
    for owner in owners:
        for cls in index.ancestors(owner):
            fields = dict(index.classes[cls].fields) if cls in index.classes else {}
            if attr.name in fields:
                found.append(declared_classes(index, fields[attr.name], True))
        stored = [index.globals[q] for q in index.attribute(owner, attr.name)]
        found += [classes_of(index, value, depth + 1) for value in stored]
    return _union(found) if found else None


def declared_classes(
    index: ProgramIndex, annotation: Expr, derived: bool = True
) -> list[str] | None:
    """The analysed classes an annotation (or a called name) names, with their
    subclasses when `derived` (an instance declared as a class may be of any of
    them); None if it names something else."""
    if isinstance(annotation, OneOf):
        options = [o for o in annotation.options if o != Lit(None)]
        return _union([declared_classes(index, option, derived) for option in options])
    if not isinstance(annotation, Ref):
        return None
    target = index.resolve(annotation.qual)
    if not target or target[0] != "class":
        return None
    return [target[1], *index.subclasses(target[1])] if derived else [target[1]]


def _union(found: list[list[str] | None]) -> list[str] | None:
    """Every class any option may be; None when one of them is not known."""
    if not found or any(classes is None for classes in found):
        return None
    return list(dict.fromkeys(cls for classes in found if classes for cls in classes))
