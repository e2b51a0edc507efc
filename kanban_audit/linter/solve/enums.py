"""Enum constructors: `Status(raw)` is one of the members, whatever `raw` is.

A constructor call either returns a member or raises, so its value is the
argument bounded by the members' values: an argument not known here becomes
each member's value (a list of members holding the guarded state proves the
bug; a guard refusing that member - `is`, `==`, `in` - excludes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Atom, Frame, narrow
from kanban_audit.linter.values import Call, ClassSummary, Lit, Ref

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator


def constructed(ev: Evaluator, enum: ClassSummary, call: Call, frame: Frame | None) -> list[Atom]:
    """The values `Enum(value)` can have."""
    atoms = ev.values(call.args[0], frame)
    members = member_values(ev, enum.qualname)
    if members is None:
        return atoms
    return [kept for atom in atoms for kept in narrow(atom, members, frozenset())]


def member_values(ev: Evaluator, cls: str) -> frozenset[str] | None:
    """The string values of an Enum's members (None when some member is not a string
    constant, or the class holds none)."""
    prefix = f"{cls}."
    values: set[str] = set()
    for qual, value in ev.index.globals.items():
        if not qual.startswith(prefix) or "." in qual[len(prefix) :]:
            continue
        if not (isinstance(value, Lit) and isinstance(value.value, str)):
            return None
        values.add(value.value)
    return frozenset(values) or None


def members(ev: Evaluator, qual: str) -> list[Ref] | None:
    """`for member in Status`: an Enum class iterated gives its members (None when
    `qual` names no Enum class of the analysed code)."""
    target = ev.index.resolve(qual)
    if not target or target[0] != "class" or not ev.index.classes[target[1]].is_enum:
        return None
    prefix = f"{target[1]}."
    names = [q for q in ev.index.globals if q.startswith(prefix) and "." not in q[len(prefix) :]]
    return [Ref(name) for name in names if not name.rsplit(".", 1)[1].startswith("_")]
