"""What an instance holds: the values its constructor was given, and the fields
set on it before it was passed on.

`self.table_name = table_name` in `__init__` stores whatever each construction
passes: `Queue(conn, table_name="jobs")`, `Queue(conn, "jobs")`, or the
parameter's default when the call leaves it out. A text stored that way (a
table name, a prefix) is read at every visible call of the method that stores
it, and further out while it is still a parameter of the calling function (a
factory `open_queue(table_name="tasks")` passing its own parameter on).

A function nothing visible calls (a library's public class, built by its
users) may be given anything: its parameter is its default (the configuration
the library ships) and, as well, a text not known here. A write whose table is
either is judged both ways: the default naming the board's table makes it a
write of the board; the unknown name keeps it a write of a table not known
here (solve/unknown_table.py), so a default naming another table never
passes a write the user may point at the board.

`job.status = JobStatus.pending` then `broker.update_job(job)`: the instance
passed carries the field as set (values.Refined, summarize/dumps.py), so
`job.status` read in the callee is what the caller set, not any value of the
field's type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Frame, Hole, Template, binding
from kanban_audit.linter.solve.receivers import is_self
from kanban_audit.linter.values import Attr, Expr, Lit, Param, Refined, Stored

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

MAX_DEPTH = 4  # calls followed outwards from the method that stores the value


def stored_texts(ev: Evaluator, stored: Stored) -> list[Template]:
    """The texts a value stored in an attribute can have, over every construction."""
    return _settled(ev, ev.strings(stored.value, None), 0)


def _settled(ev: Evaluator, texts: list[Template], depth: int) -> list[Template]:
    """Texts whose parts that are parameters are read at the calls that pass them."""
    settled: list[Template] = []
    for template in texts:
        if not any(_open_parameter(ev, piece) for piece in template):
            settled.append(template)
            continue
        parts = [_passed(ev, piece, depth) for piece in template]
        settled += ev.product(parts)
    return settled


def _open_parameter(ev: Evaluator, piece: object) -> Param | None:
    """The parameter a part of a text is, when no call binds it (not `self`)."""
    if not isinstance(piece, Hole) or not isinstance(piece.expr, Param):
        return None
    param = piece.expr
    fn = ev.index.functions.get(param.func)
    if fn is None or is_self(fn, param) or binding(piece.frame, param.func) is not None:
        return None
    return param


def _passed(ev: Evaluator, piece: str | Hole, depth: int) -> list[Template]:
    """What the calls of a function pass for a part that is one of its parameters;
    its default and a text not known here when nothing visible calls it."""
    param = _open_parameter(ev, piece)
    if param is None or depth >= MAX_DEPTH or ev.graph is None:
        return [(piece,)]
    callers = ev.graph.callers_of(param.func)
    if not callers:
        default = ev.index.functions[param.func].defaults.get(param.name)
        given = [] if default is None or default == Lit(None) else ev.strings(default, None)
        return [*_settled(ev, given, depth + 1), (piece,)]
    texts: list[Template] = []
    for caller, call, offset in callers:
        frame = Frame(param.func, call, caller, offset, None, on_path=False)
        texts += _settled(ev, ev.strings(param, frame), depth + 1)
    return texts


def assigned(ev: Evaluator, attr: Attr, frame: Frame | None) -> tuple[Expr, Frame | None] | None:
    """What `obj.name` is where `obj` was passed in with the field set (or narrowed)
    by the caller, with the frame to read it in; None when no caller set it."""
    base, where = attr.base, frame
    for _ in range(MAX_DEPTH):
        if isinstance(base, Refined):
            for name, value in base.attrs:
                if name == attr.name:
                    return value, where
            base = base.expr
        elif isinstance(base, Param) and (bound := binding(where, base.func)) is not None:
            base, where = ev.argument(bound, base.name), bound.parent
        else:
            return None
    return None
