"""SET columns named by a hole: `SET {key} = ?`, the keys taken from a dict.

Known keys unroll into plain SQL (unroll.py); a key still a hole is request
data or a loop's element. Such a write may name the status column when a key
can be `status` or is not known at all; what it then stores is what the
placeholder receives, and an unknown value written through an unknown key
says so in its reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kanban_audit.linter.solve.atoms import Atom, Hole
from kanban_audit.linter.solve.evaluate import describe
from kanban_audit.linter.solve.mappings import VIEWS
from kanban_audit.linter.values import Attr, Call, DictLit, Elem, Expr, Index, Lit, Narrowed, Star

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

MAX_STEPS = 6  # back from a key to the mapping it was taken from


def may_name(ev: Evaluator, key: Hole, column: str) -> bool:
    """Whether a key can be the column (or is not known)."""
    for atom in ev.values(key.expr, key.frame):
        if atom.kind == "const" and atom.value.lower() == column:
            return True
        possible = atom.allow is None or column in atom.allow
        if atom.kind != "const" and column not in atom.deny and possible:
            return True
    return False


def fragment(part: Hole, column: str) -> Atom:
    """A part of a SET list not known here: it may set the column to anything."""
    return Atom(
        "unknown", f"a SET list part not known here ({describe(part.expr)}) may set `{column}`"
    )


def names_it(ev: Evaluator, key: Hole, column: str) -> bool:
    """Whether a key is known to be the column in some case."""
    return any(
        atom.kind == "const" and atom.value.lower() == column
        for atom in ev.values(key.expr, key.frame)
    )


def through_key(ev: Evaluator, key: Hole, column: str, atoms: list[Atom]) -> list[Atom]:
    """Values written to the column a key may name: an unknown value written
    through an unknown key says which key."""
    if names_it(ev, key, column):
        return atoms
    where = f"the columns are named by {keys_of(ev, key)}, which may include `{column}`"
    return [replace(a, value=f"{a.value}; {where}") if a.kind == "unknown" else a for a in atoms]


def placeholder_names(ev: Evaluator, name: Hole, key: Hole | None, column: str) -> list[str] | None:
    """The names a placeholder named by a hole (`:{k}`) can have: when the same key
    names the column, only the names that are the column; None if not known."""
    names = ev.const_set(name.expr, name.frame)
    if names is None:
        return None
    if key is not None and key.expr == name.expr and key.frame == name.frame:
        names = frozenset(n for n in names if n.lower() == column)
    return sorted(names)


def keys_of(ev: Evaluator, key: Hole) -> str:
    """Where a key comes from, for a reason: `the keys of parameter `body``."""
    return f"the keys of {describe(_mapping(ev, key))}"


def matching(ev: Evaluator, key: Hole, column: str) -> list[Atom]:
    """What the dict a key was taken from holds under the column's name: the
    value a SET list built from its items writes there (the idiom binds each
    key's own value), whatever the positions of its other keys."""
    mapping = _mapping(ev, key)
    structs = ev.structures(mapping, key.frame)
    if mapping is key.expr or not all(isinstance(s, DictLit) for s in structs):
        return []
    return ev.index_values(Index(mapping, Lit(column)), key.frame)


def _mapping(ev: Evaluator, key: Hole) -> Expr:
    """The mapping a key was taken from (the key itself if none is seen)."""
    expr = key.expr
    for _ in range(MAX_STEPS):
        found = ev.structures(expr, key.frame)
        source = _source(found[0] if len(found) == 1 else expr)
        if source is None:
            break
        expr = source
    return expr


def _source(key: Expr) -> Expr | None:
    """One step back to the mapping keys were taken from: `k` of `for k in d`,
    `d.keys()`, `d.items()`, `", ".join(d)`, `{**d}`, past guards; None at the
    mapping."""
    if isinstance(key, Narrowed):
        return key.expr
    if isinstance(key, Index) and key.key == Lit(0):
        return key.base
    if isinstance(key, (Elem, Star)):
        return key.seq if isinstance(key, Elem) else key.expr
    if isinstance(key, Call) and isinstance(key.func, Attr):
        if key.func.name in VIEWS:
            return key.func.base
        if key.func.name == "join" and key.args:
            return key.args[0]
    if isinstance(key, DictLit) and len(key.items) == 1 and isinstance(key.items[0][0], Star):
        return key.items[0][0]
    return None
