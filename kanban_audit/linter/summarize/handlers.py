"""`try` statements: which states of the body reach each `except`, and the `finally`.

An exception leaves the body from where it is raised, so a handler starts from
the states at those points, not from the state after the body: from before
each statement that may raise on its own (a call, a subscript, an attribute,
arithmetic), and from each `raise` whose class the handler catches.
`if s == "running": raise ValueError(...)` under `except KeyError:` is a guard
for the code after the `try`; under `except ValueError: pass` it is not (and
the value that reaches the handler is `running`). Classes are compared by
qualified name: a builtin is caught by its builtin bases only; the program's
own classes are followed to their bases by the solver, wherever they are kept
(values.Caught: what reaches a handler that may or may not catch the class);
a re-raise or a class not known here may be caught by any handler. `else`
runs only after a body that raised nothing; `finally` runs after every path,
so its own writes see the states of every exit, while the code after the
`try` sees only the paths that go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import libcst as cst

from kanban_audit.linter.summarize.names import dotted
from kanban_audit.linter.values import Caught, Expr, builtin_exception

Env = dict[str, Expr]
Qualify = Callable[[str], str | None]  # a dotted name as written -> its qualified name

BROAD = {"builtins.Exception", "builtins.BaseException"}
# Statements and values that never raise on their own.
_SILENT_STATEMENTS = (cst.Pass, cst.Break, cst.Continue, cst.Global, cst.Nonlocal)
_SILENT_VALUES = (cst.Name, cst.SimpleString, cst.Integer, cst.Float, cst.ConcatenatedString)


@dataclass
class Raises:
    """Where a `try` body leaves for its handlers: (the class raised, or None when
    any class may be, and the state there)."""

    points: list[tuple[str | None, Env]] = field(default_factory=list)

    def reach(self, loud: bool, env: Env) -> None:
        """A statement that may raise by itself: the state before it reaches any handler
        (once, while nothing changed since the last such state)."""
        if not loud:
            return
        last = next((state for raised, state in reversed(self.points) if raised is None), {})
        unchanged = len(last) == len(env) and all(last.get(k) is v for k, v in env.items())
        if not (last and unchanged):
            self.points.append((None, dict(env)))

    def caught_by(self, handler: cst.ExceptHandler, before: Env, qualify: Qualify) -> list[Env]:
        """The states that reach a handler. Where the program's class may or may not
        derive from what it catches, each value changed since `before` (the state
        entering the `try`) reaches it only if it does."""
        names = _handled(handler, qualify)
        found: list[Env] = []
        for raised, env in self.points:
            verdict = catches(names, raised)
            if verdict is None and raised is not None and names is not None:
                env = {k: _maybe(v, before.get(k), raised, names) for k, v in env.items()}
            if verdict is not False:
                found.append(env)
        return found

    def uncaught(
        self, handlers: tuple[cst.ExceptHandler, ...], before: Env, qualify: Qualify
    ) -> Iterator[tuple[str | None, Env]]:
        """The points no handler of the statement catches: they leave the `try` raising
        (where that depends on the program's classes, with the values changed since
        `before` only if none does)."""
        for raised, env in self.points:
            names = [_handled(h, qualify) for h in handlers]
            verdicts = [catches(n, raised) for n in names]
            if True in verdicts:
                continue
            if None in verdicts and raised is not None:
                undecided = tuple(
                    q for n, v in zip(names, verdicts, strict=True) if v is None for q in n or ()
                )
                env = {
                    k: _maybe(v, before.get(k), raised, undecided, False) for k, v in env.items()
                }
            yield raised, env


def _maybe(
    value: Expr, before: Expr | None, raised: str, names: tuple[str, ...], if_caught: bool = True
) -> Expr:
    """A value as it goes on from a `raise` that a handler may or may not catch:
    unchanged since the `try` began, it is what it was; else it goes on only if the
    class is caught (`if_caught`), or only if it is not."""
    return value if value is before else Caught(value, raised, names, if_caught)


def raised_class(node: cst.Raise, qualify: Qualify) -> str | None:
    """The qualified class a `raise` statement raises (None: a re-raise or not known)."""
    exc = node.exc
    if isinstance(exc, cst.Call):
        exc = exc.func
    name = dotted(exc) if exc is not None else ""
    return qualify(name) if name else None


def catches(names: tuple[str, ...] | None, raised: str | None) -> bool | None:
    """Whether a handler for `names` (None: a bare `except`) catches `raised`; None when
    that depends on the bases of a class of the program (solve/exceptions.py)."""
    if names is None or raised is None or BROAD & set(names) or raised in names:
        return True
    raised_type = builtin_exception(raised)
    bases = [builtin_exception(name) for name in names]
    if raised_type is None or None in bases:
        return None  # a class of the program, or a name that may hold a tuple of them
    return any(issubclass(raised_type, base) for base in bases if base is not None)


def may_raise(stmt: cst.CSTNode) -> bool:
    """Whether the statement's own code (not the bodies it holds) may raise by itself;
    a `raise` is a point of its own, with its class."""
    if isinstance(stmt, cst.Raise):
        return False
    if isinstance(stmt, cst.BaseSmallStatement):
        return _loud(stmt)
    if isinstance(stmt, (cst.If, cst.While)):
        return _loud(stmt.test)
    # for, with, match may raise in their iterator, context manager or subject.
    return not isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.Try, cst.TryStar))


def _loud(node: cst.CSTNode | None) -> bool:
    """Whether a small statement or a value may raise: anything but names, literals and
    comparisons or boolean tests of them (an `==` of two strings raises nothing)."""
    if node is None or isinstance(node, (*_SILENT_STATEMENTS, *_SILENT_VALUES)):
        return False
    if isinstance(node, cst.Assign):
        targets = all(isinstance(t.target, cst.Name) for t in node.targets)
        return not targets or _loud(node.value)
    if isinstance(node, cst.AnnAssign):
        return not isinstance(node.target, cst.Name) or _loud(node.value)
    if isinstance(node, (cst.Return, cst.Expr)):
        return _loud(node.value)
    if isinstance(node, cst.Comparison):
        return _loud(node.left) or any(_loud(c.comparator) for c in node.comparisons)
    if isinstance(node, cst.BooleanOperation):
        return _loud(node.left) or _loud(node.right)
    if isinstance(node, cst.UnaryOperation):
        return not isinstance(node.operator, cst.Not) or _loud(node.expression)
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return any(isinstance(e, cst.StarredElement) or _loud(e.value) for e in node.elements)
    return True


def _handled(handler: cst.ExceptHandler, qualify: Qualify) -> tuple[str, ...] | None:
    if handler.type is None:
        return None
    types = handler.type
    items = [e.value for e in types.elements] if isinstance(types, cst.Tuple) else [types]
    names = tuple(qualify(dotted(item)) if dotted(item) else None for item in items)
    return None if None in names else names  # type: ignore[return-value]
