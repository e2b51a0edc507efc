"""What the solver computes: value atoms, call frames, text holes, offending paths."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kanban_audit.linter.values import Call, Expr, Lit, Narrowed, Param, Seq, Sink, Site, walk


@dataclass(frozen=True)
class Hop:
    """A step on the path to the write: `caller` calls `callee` at `site` (through
    `getattr` when `looked_up`: the name may match more), or, when `stored` names
    an attribute, `caller` stores the value in it there."""

    caller: str
    callee: str
    site: Site
    stored: str = ""
    looked_up: bool = False


@dataclass(frozen=True)
class Atom:
    """One value a write may store: a constant, an unknown (with the reason), or a
    parameter still to be resolved, with the guards met and the hops taken.

    A parameter atom may stand for a value read from the parameter (an item, an
    element, a lowered text): `expr` is then read again at each call site, so
    that what one caller passes is judged apart from what the others pass.
    """

    kind: str  # const | unknown | param
    value: str  # the constant, the reason, or the parameter name
    func: str = ""  # param: the function owning the parameter
    allow: frozenset[str] | None = None
    deny: frozenset[str] = frozenset()
    chain: tuple[Hop, ...] = ()
    expr: Expr | None = None  # param: what to read at a call site (None: the parameter)
    # const: a value not known here, one of an allow-list's (it enters where it is read).
    bounded: bool = False


@dataclass(frozen=True)
class Frame:
    """Parameters of `func` bound to the arguments of `call`, made in `caller`."""

    func: str
    call: Call
    caller: str
    offset: int
    parent: Frame | None
    on_path: bool  # a hop towards the write (else: a helper whose return value is used)


@dataclass(frozen=True)
class Hole:
    """A part of a text that could not be resolved to a string."""

    expr: Expr
    frame: Frame | None


Template = tuple  # of str | Hole


@dataclass(frozen=True)
class Issue:
    """One offending path: the value, where it enters, the hops, the write."""

    code: str
    atoms: tuple[Atom, ...]
    report_func: str
    report_site: Site
    chain: tuple[Hop, ...]
    sink_func: str
    sink: Sink
    column_note: str


def binding(frame: Frame | None, func: str) -> Frame | None:
    """The innermost frame that binds `func`'s parameters, if any."""
    while frame is not None:
        if frame.func == func:
            return frame
        frame = frame.parent
    return None


def narrow(atom: Atom, allow: frozenset[str] | None, deny: frozenset[str]) -> list[Atom]:
    """Apply a guard to one atom: drop excluded constants, make unknowns concrete."""
    if atom.kind == "const":
        keep = (allow is None or atom.value in allow) and atom.value not in deny
        return [atom] if keep else []
    if atom.kind == "unknown":
        if allow is not None:
            values = sorted(allow - deny - atom.deny)
            return [replace(atom, kind="const", value=v, bounded=True) for v in values]
        return [replace(atom, deny=atom.deny | deny)]
    merged_allow = (
        allow if atom.allow is None else (atom.allow if allow is None else atom.allow & allow)
    )
    return [replace(atom, allow=merged_allow, deny=atom.deny | deny)]


def open_expr(atom: Atom) -> Expr:
    """What a parameter atom stands for, its guards included, as an expression to read
    at a call site."""
    expr = atom.expr or Param(atom.func, atom.value)
    if atom.allow is None and not atom.deny:
        return expr
    allow = None if atom.allow is None else _strings(atom.allow)
    return Narrowed(expr, allow, _strings(atom.deny) if atom.deny else None)


def _strings(values: frozenset[str]) -> Seq:
    return Seq(tuple(Lit(v) for v in sorted(values)))


def short(qual: str) -> str:
    return qual.rsplit(".", 1)[-1]


def mentions_param(
    expr: object, func: str, skip: frozenset[str] = frozenset(), prefix: str = ""
) -> bool:
    """Whether an expression (or a hole's) depends on a parameter of `func` (one
    whose name starts with `prefix`, and not one of `skip`)."""
    return any(
        isinstance(part, Param)
        and part.func == func
        and part.name.startswith(prefix)
        and part.name not in skip
        for part in walk(expr, lambda part: not (isinstance(part, Hole) and part.frame))
    )
