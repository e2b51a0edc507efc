"""A field declared with a default: what an instance holds when its constructor
leaves the field out.

`settings: DBSettings = dataclasses.field(default_factory=db_settings)` holds
what `db_settings()` returns; pydantic's `Field(default="x")` (or `Field("x")`)
holds `"x"`, and `Field(default_factory=make)` what `make()` returns, a lambda's
body included (`lambda data: f"{data['prefix']}jobs"`: the validated data a
pydantic factory may read is not known here, so the prefix is a part not known
here). The declaring call is read as that value wherever the class default is
read: a field of a settings object, `self.x` in a method, a constructor's
default. A required field (`Field(...)`, no default) stays what it was: the
value the constructor is given, not known here when it is read as a default.

Library models are data: each declaring callable, the position its default may
take, and the keywords of its default and its factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.values import Call, Expr, Ref, Unknown

if TYPE_CHECKING:
    from kanban_audit.linter.solve.index import ProgramIndex

# Declaring callable -> the position its default may be passed at (None: keyword only).
DECLARERS: dict[str, int | None] = {
    "dataclasses.field": None,
    "pydantic.Field": 0,
    "pydantic.fields.Field": 0,
    "sqlmodel.Field": 0,
    "attrs.field": None,
    "attr.ib": 0,
    "attr.attrib": 0,
    "attr.field": None,
}
DEFAULTS = ("default",)
FACTORIES = ("default_factory", "factory")
REQUIRED = Unknown("Ellipsis")  # `Field(...)`: no default


def declared(index: ProgramIndex, call: Call) -> Expr | None:
    """The value a field declaration gives the field (its default, or a call of its
    factory); None when `call` declares no field, or declares one with no default."""
    func = call.func
    if not isinstance(func, Ref) or func.qual not in DECLARERS:
        return None
    if index.resolve(func.qual) is not None:
        return None  # the analysed code's own function of that name
    for keyword, value in call.kwargs:
        if keyword in DEFAULTS:
            return value
        if keyword in FACTORIES:
            return Call(value, (), (), call.site)
    position = DECLARERS[func.qual]
    if position is not None and position < len(call.args) and call.args[position] != REQUIRED:
        return call.args[position]
    return None
