"""`getattr` dispatch: `getattr(self, f"_to_{state}")(...)`, `getattr(obj, name)(...)`.

The functions a looked-up name can denote are those whose names match what the
name can be: its literal parts as they are, each interpolated part as the
strings it can hold when all are known, else as any text. The receiver says
where to look: the class of `self`, of `Class()` or of an object whose class is
known (`self.board` set to `Board(conn)` in `__init__`, a parameter annotated
`board: Board`; methods, with the instance bound), a class itself or a module
(plain functions). The default of `getattr(obj, name, default)` is called when
the name matches nothing, so it is a callee as well. A receiver of no known
class is matched against every analysed method, but only by a name with some
literal part: a wholly unknown name on an unknown receiver could be anything.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, TypeGuard

from kanban_audit.linter.solve import receivers
from kanban_audit.linter.solve.atoms import Hole, Hop
from kanban_audit.linter.values import Call, Expr, Param, Ref

if TYPE_CHECKING:
    from kanban_audit.linter.solve.atoms import Frame
    from kanban_audit.linter.solve.calls import Callee
    from kanban_audit.linter.solve.evaluate import Evaluator

ANY = ".*"


def is_lookup(expr: Expr) -> TypeGuard[Call]:
    """Whether an expression is `getattr(receiver, name[, default])`."""
    return (
        isinstance(expr, Call)
        and isinstance(expr.func, Ref)
        and expr.func.qual == "builtins.getattr"
        and len(expr.args) >= 2
    )


def hop(caller: str, callee: str, call: Call) -> Hop:
    """A call on the path, marked when the callee was looked up by name."""
    return Hop(caller, callee, call.site, looked_up=is_lookup(call.func))


def lookup_callees(ev: Evaluator, lookup: Call, frame: Frame | None = None) -> list[Callee]:
    """The functions `getattr(receiver, name[, default])` may denote, as callees: the
    matching ones, and what the default may be (a name that matches nothing)."""
    receiver, name = lookup.args[0], lookup.args[1]
    pattern = name_pattern(ev, name, frame)
    found: list[Callee] = []
    for struct in ev.structures(receiver, frame):
        found += _in_receiver(ev, struct, pattern)
    if len(lookup.args) > 2:
        found += [t for t in ev.call_targets(lookup.args[2], frame) if isinstance(t, tuple)]
    return list(dict.fromkeys(found))


def name_pattern(ev: Evaluator, name: Expr, frame: Frame | None) -> str:
    """A regular expression for every text the name can have."""
    options = []
    for template in ev.strings(name, frame):
        parts = []
        for piece in template:
            parts.append(re.escape(piece) if isinstance(piece, str) else _hole(ev, piece))
        options.append("".join(parts))
    return "|".join(dict.fromkeys(options)) or ANY


def _hole(ev: Evaluator, hole: Hole) -> str:
    """An interpolated part: the strings it can hold, or any text."""
    atoms = ev.values(hole.expr, hole.frame)
    if not atoms or any(atom.kind != "const" for atom in atoms):
        return ANY
    return "(?:" + "|".join(re.escape(v) for v in sorted({a.value for a in atoms})) + ")"


def _in_receiver(ev: Evaluator, receiver: Expr, pattern: str) -> list[Callee]:
    """Matching functions where the receiver says to look: an instance's methods
    (bound as they are), a class's or a module's functions (nothing bound)."""
    index = ev.index
    if isinstance(receiver, Ref):
        target = index.resolve(receiver.qual)
        if target and target[0] in ("class", "module"):
            return [(qual, 0) for qual in _matching(index.members(target[1]), pattern)]
    self_class = ev.class_of_self(receiver) if isinstance(receiver, Param) else ""
    classes = [self_class] if self_class else receivers.classes_of(index, receiver)
    if not classes and pattern == ANY:
        return []
    members = [m for cls in classes for m in index.members(cls)] if classes else None
    matched = _matching(index.all_methods() if members is None else members, pattern)
    return [(qual, index.functions[qual].bound) for qual in dict.fromkeys(matched)]


def _matching(members: list[tuple[str, str]], pattern: str) -> list[str]:
    """The functions (name, qualified name) whose names the pattern matches."""
    compiled = re.compile(pattern, re.DOTALL)
    return [qual for name, qual in members if compiled.fullmatch(name)]
