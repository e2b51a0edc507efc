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

from kanban_audit.linter.values import Caught, Ref, Seq, builtin_exception

if TYPE_CHECKING:
    from kanban_audit.linter.solve.index import ProgramIndex

MAX_DEPTH = 4  # tuples of tuples of classes


def caught(index: ProgramIndex, value: Caught) -> bool:
    """Whether a handler for `value.handled` catches an instance of `value.raised`."""
    handled = _handled(index, value.handled)
    if handled is None:
        return True  # a name holding something not known here
    raised = index.resolve(value.raised)
    if raised is None or raised[0] != "class":
        raised_type = builtin_exception(value.raised)
        if raised_type is None:
            return True  # not a class analysed here: it may derive from anything
        return _builtin_caught(raised_type, handled)
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
        if base_type is None or _builtin_caught(base_type, handled):
            return True  # a base not known here, or a builtin one the handler names
    return False


def _builtin_caught(raised: type[BaseException], handled: set[str]) -> bool:
    """A builtin class is caught by its builtin bases only."""
    return any((base := builtin_exception(name)) and issubclass(raised, base) for name in handled)


def _handled(index: ProgramIndex, names: tuple[str, ...], depth: int = 0) -> set[str] | None:
    """The classes a handler names: analysed ones by their qualified name, others
    (builtins, other libraries') as written; a module-level tuple of them
    (`RETRYABLE = (StaleClaim, TaskNotFound)`) is its items. None when a name
    holds anything else."""
    found: set[str] = set()
    for name in names:
        target = index.resolve(name)
        if target is None or target[0] == "class":
            found.add(target[1] if target else name)
            continue
        value = index.globals.get(target[1]) if target[0] == "global" else None
        items = value.items if isinstance(value, Seq) else None
        if depth > MAX_DEPTH or items is None or not all(isinstance(i, Ref) for i in items):
            return None
        inner = _handled(index, tuple(i.qual for i in items if isinstance(i, Ref)), depth + 1)
        if inner is None:
            return None
        found |= inner
    return found


def _analysed(index: ProgramIndex, base: object) -> bool:
    target = index.resolve(base.qual) if isinstance(base, Ref) else None
    return bool(target and target[0] == "class")
