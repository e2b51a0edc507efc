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

from kanban_audit.linter.solve import models, receivers, results
from kanban_audit.linter.solve.atoms import Frame, Hole, Template, binding
from kanban_audit.linter.solve.receivers import is_self
from kanban_audit.linter.values import (
    Attr,
    Call,
    DictLit,
    Expr,
    Lit,
    Narrowed,
    OneOf,
    Param,
    Ref,
    Refined,
    Seq,
    Star,
    Stored,
    one_of,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

MAX_DEPTH = 4  # calls followed outwards from the method that stores the value


def stored_texts(ev: Evaluator, stored: Stored) -> list[Template]:
    """The texts a value stored in an attribute can have, over every construction."""
    return _settled(ev, ev.strings(stored.value, None), 0)


def _settled(ev: Evaluator, texts: list[Template], depth: int) -> list[Template]:
    """Texts whose parts that are parameters are read at the calls that pass them:
    the parameters of one function at each call together (`cte(name, body)` gives
    each call's name with that call's body)."""
    settled: list[Template] = []
    for template in texts:
        opened = {p.func for piece in template if (p := _open_parameter(ev, piece))}
        if not opened:
            settled.append(template)
            continue
        func = opened.pop()
        callers = ev.graph.callers_of(func) if ev.graph is not None and not opened else []
        if not callers or depth >= MAX_DEPTH:
            settled += ev.product([_passed(ev, piece, depth) for piece in template])
            continue
        for caller, call, offset in callers:
            frame = Frame(func, call, caller, offset, None, on_path=False)
            parts = [
                ev.strings(piece.expr, frame) if _open_parameter(ev, piece) else [(piece,)]  # type: ignore[union-attr]
                for piece in template
            ]
            settled += _settled(ev, ev.product(parts), depth + 1)
    return settled


def _open_parameter(ev: Evaluator, piece: object) -> Param | None:
    """The parameter a part of a text is (or is as a guard left it), when no call
    binds it (not `self`)."""
    if not isinstance(piece, Hole):
        return None
    param = piece.expr.expr if isinstance(piece.expr, Narrowed) else piece.expr
    if not isinstance(param, Param):
        return None
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


def held_by(ev: Evaluator, attr: Attr, frame: Frame | None) -> list[Expr]:
    """What `obj.name` holds where `obj` is an object made from a known class (a list
    its methods append to, read where a builder's method was called on it)."""
    found: list[Expr] = []
    for struct in ev.structures(attr.base, frame):
        for value in field_values(ev, struct, attr.name):
            found.append(_held_by_object(ev, value, struct) if _made(ev, struct) else value)
    return found


def _held_by_object(ev: Evaluator, value: Expr, made: Call) -> Expr:
    """`_of_object`, made once per value and object: the same items each time they are
    read, so what is read of them is read once."""
    key = ("held", id(value), id(made))
    return ev.remembered(ev.ctx.memo, key, lambda: _of_object(ev, value, made), value, made)


def _made(ev: Evaluator, struct: Expr) -> bool:
    """Whether a value is an object made where it is written: `Composer()`."""
    if not (isinstance(struct, Call) and isinstance(struct.func, Ref)):
        return False
    target = ev.index.resolve(struct.func.qual)
    return target is not None and target[0] == "class"


def _of_object(ev: Evaluator, value: Expr, made: Call) -> Expr:
    """A list (or dict) its class's methods add to, as one object made at `made` holds
    it: what each call of such a method on that object passes (`composer.cte(...)` in
    the function that made `composer`), not what another object made elsewhere was
    given. Where a method is also called on an object the lint cannot tell apart
    (`self`, a parameter), every call's items are kept."""
    if isinstance(value, OneOf):
        return one_of([_of_object(ev, option, made) for option in value.options])
    if isinstance(value, Seq):
        return Seq(tuple(item for old in value.items for item in _items(ev, old, made)))
    if isinstance(value, DictLit):
        return DictLit(tuple(pair for old in value.items for pair in _entries(ev, old, made)))
    return value


def _items(ev: Evaluator, item: Expr, made: Call) -> list[Expr]:
    if isinstance(item, Star):
        return [Star(inner) for inner in _items(ev, item.expr, made)]
    frames = _calls_on(ev, item, made)
    if frames is None:
        return [item]
    return [results.in_caller(ev, item.value, frame) for frame in frames]  # type: ignore[union-attr]


def _entries(ev: Evaluator, pair: tuple[Expr, Expr], made: Call) -> list[tuple[Expr, Expr]]:
    key, value = pair
    frames = _calls_on(ev, value, made)
    if frames is None:
        return [pair]
    return [
        (results.in_caller(ev, key, frame), results.in_caller(ev, value.value, frame))  # type: ignore[union-attr]
        for frame in frames
    ]


def _calls_on(ev: Evaluator, item: Expr, made: Call) -> list[Frame] | None:
    """The calls that add a stored item to the object made at `made`, as frames of the
    method that adds it; None when the item is not one a method adds, or when a call
    on an object the lint cannot tell apart adds it too."""
    if not isinstance(item, Stored) or ev.graph is None:
        return None
    fn = ev.index.functions.get(item.func)
    if fn is None or not fn.bound:
        return None
    frames: list[Frame] = []
    for caller, call, offset in ev.graph.callers_of(item.func):
        receiver = call.func.base if isinstance(call.func, Attr) else call
        if receiver == made:
            frames.append(Frame(item.func, call, caller, offset, None, on_path=False))
        elif not _made(ev, receiver):
            return None
    return frames


def field_values(ev: Evaluator, struct: Expr, name: str) -> list[Expr]:
    """What a field of an object holds: for `Model(...)`, the argument or the default;
    for a declared settings parameter, its class default; for an instance of a plain
    class (built here, or a parameter declared as one), its class attribute and what
    its methods store."""
    for model in models.instance_models(ev, struct):
        if name not in model.fields:
            continue
        if isinstance(struct, Call) and models.constructed(struct):
            return [models.constructor_argument(ev, model, struct, name)]
        default = ev.index.globals.get(f"{model.qual}.{name}")
        if isinstance(struct, Param) and default is not None:
            return [default]
    classes = receivers.classes_of(ev.index, struct) or []
    return [Ref(qual) for cls in classes for qual in ev.index.attribute(cls, name)]
