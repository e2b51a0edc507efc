"""Exception classes followed to their bases: whether an `except` catches a `raise`.

The per-file pass decides for builtin classes (`KeyError` is a `LookupError`);
a class of the program (`class InvalidStatus(BoardError)`, kept in this module
or another) is decided here, where every analysed class is known: a handler
catches it when it names the class or one of its analysed bases, or a builtin
base the chain ends in (`BoardError(Exception)` is caught by `except
Exception`, not by `except KeyError`). A base not known here (another
library's class) may be anything, so a handler may catch it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.values import Caught, Ref, builtin_exception

if TYPE_CHECKING:
    from kanban_audit.linter.solve.index import ProgramIndex


def caught(index: ProgramIndex, value: Caught) -> bool:
    """Whether a handler for `value.handled` catches an instance of `value.raised`."""
    raised = index.resolve(value.raised)
    if raised is None or raised[0] != "class":
        return True  # not a class analysed here: it may derive from anything
    handled = {_class_name(index, name) for name in value.handled}
    bases: list[str] = []
    for cls in index.ancestors(raised[1]):
        if cls in handled:
            return True
        bases += [
            base.qual if isinstance(base, Ref) else ""
            for base in index.classes[cls].bases
            if not _analysed(index, base)
        ]
    for base in bases:
        base_type = builtin_exception(base)
        if base_type is None:
            return True  # a base not known here
        if any((h := builtin_exception(name)) and issubclass(base_type, h) for name in handled):
            return True
    return False


def _class_name(index: ProgramIndex, qual: str) -> str:
    """The analysed class a handler's name denotes (through re-exports), else the name."""
    target = index.resolve(qual)
    return target[1] if target and target[0] == "class" else qual


def _analysed(index: ProgramIndex, base: object) -> bool:
    target = index.resolve(base.qual) if isinstance(base, Ref) else None
    return bool(target and target[0] == "class")
