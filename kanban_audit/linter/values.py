"""Symbolic values: what the per-file pass records and the solver evaluates.

A ModuleSummary holds expressions in this small language instead of source
code, so that the expensive parse runs once per file (in parallel, cached) and
the whole-program solver can still ask "what strings can reach this write?".
Every node is a frozen dataclass: hashable, comparable and picklable.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Site:
    """A place in a file: 1-based line, 0-based column, first line of the statement."""

    line: int
    col: int
    stmt_line: int
    text: str = ""
    # Where the reported expression ends: formatters move trailing comments there.
    end_line: int = 0


@dataclass(frozen=True)
class Lit:
    value: str | int | float | bool | None


@dataclass(frozen=True)
class Unknown:
    reason: str


@dataclass(frozen=True)
class Param:
    func: str
    name: str


@dataclass(frozen=True)
class Ref:
    """A module-level name, class attribute, function or module, fully qualified."""

    qual: str


@dataclass(frozen=True)
class Attr:
    base: Expr
    name: str


@dataclass(frozen=True)
class Index:
    base: Expr
    key: Expr


@dataclass(frozen=True)
class Call:
    func: Expr
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, Expr], ...]
    site: Site
    # The call spreads *args or **kwargs: unmatched parameters are unknown.
    spread: bool = False


@dataclass(frozen=True)
class OneOf:
    options: tuple[Expr, ...]


@dataclass(frozen=True)
class Narrowed:
    """A value after a guard: kept only if in `allow` (when set) and not in `deny`."""

    expr: Expr
    allow: Expr | None = None
    deny: Expr | None = None


@dataclass(frozen=True)
class BinOp:
    op: str  # "+", "*", "%"
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Concat:
    """An f-string: literal parts and interpolated values in order."""

    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Seq:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Star:
    expr: Expr


@dataclass(frozen=True)
class DictLit:
    """A dict display, or a dict comprehension: its one pair is then read as any key
    with any value, and `comp` makes the pairs (each element a `Seq((key, value))`)
    one per element where its iterable is known (solve/unroll.py), so that each key
    keeps the value made from the same element."""

    items: tuple[tuple[Expr, Expr], ...]
    comp: Comp | None = None


@dataclass(frozen=True)
class Lambda:
    body: Expr


@dataclass(frozen=True)
class Comp:
    """A comprehension: a sequence whose every element is `elt`.

    `over` is what a single `for` clause iterates (the loop variable is
    `Elem(over)` inside `elt`); `keep` are the loop variables as its `if`
    clauses narrowed them: an element they exclude makes no item. Known
    iterables unroll (solve/unroll.py) into one item per element.
    """

    elt: Expr
    over: Expr | None = None
    keep: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Elem:
    """Some element of a sequence (a loop variable, an executemany row)."""

    seq: Expr


@dataclass(frozen=True)
class Stored:
    """A value a method stores in an attribute of its instance (`self.x = value`).

    What is stored anywhere in a class is what `self.x` can be in any of its
    methods; `site` is where the value enters, in method `func`.
    """

    value: Expr
    func: str
    attr: str  # as written: `self.next_status`
    site: Site


@dataclass(frozen=True)
class Refined:
    """An instance some of whose attributes guards have narrowed, as a model dump
    takes it (`if body.status == "running": raise` before `body.model_dump()`)."""

    expr: Expr
    attrs: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True)
class Check:
    """A returned truth value that says something of one value.

    With no `verdict`, it is true exactly when `subject` is in `allow` (when
    set) and not in `deny` (`return status in ALLOWED`). With a verdict, it is
    that constant, returned where `subject` is known to be so bounded (`if s
    not in ALLOWED: return False`).
    """

    subject: Expr
    allow: Expr | None = None
    deny: Expr | None = None
    verdict: bool | None = None


@dataclass(frozen=True)
class Persisted:
    """A value as a column stores it: a text in `texts` is stored as its pair (an Enum
    column storing a member's name for its value). Made by the solver, never summarised."""

    expr: Expr
    texts: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class OnUnknownTable:
    """A value written to a table the lint cannot name (`statement`: UPDATE, INSERT...),
    read at a call site as such a write reads it (solve/unknown_table.py). Made by the
    solver, never summarised."""

    expr: Expr
    statement: str


@dataclass(frozen=True)
class Holds:
    """The values for which a call's verdict is `truth`: a bound on its positional
    argument `arg` where the call is a test (`if not is_valid(s): raise`)."""

    call: Call
    arg: int
    truth: bool


@dataclass(frozen=True)
class Caught:
    """A value that goes on from a `raise` only as an `except` decides: `expr` when
    class `raised` derives from one of `handled` (qualified names), nothing else; with
    `if_caught` false, the other way round (the state a `raise` no handler catches
    takes out of the `try`). The per-file pass cannot see the bases of a class kept in
    another module; the solver can (solve/exceptions.py)."""

    expr: Expr
    raised: str
    handled: tuple[str, ...]
    if_caught: bool = True


def builtin_exception(qual: str) -> type[BaseException] | None:
    """The builtin exception class a qualified name is (`builtins.KeyError`), if any."""
    module, _, name = qual.rpartition(".")
    found = getattr(builtins, name, None) if module == "builtins" else None
    return found if isinstance(found, type) and issubclass(found, BaseException) else None


Expr = (
    Lit
    | Unknown
    | Param
    | Ref
    | Attr
    | Index
    | Call
    | OneOf
    | Narrowed
    | BinOp
    | Concat
    | Seq
    | Star
    | DictLit
    | Lambda
    | Comp
    | Elem
    | Stored
    | Refined
    | Check
    | Holds
    | Caught
    | Persisted
    | OnUnknownTable
)


# Text methods that change a string's case or whitespace, and nothing else.
STRING_METHODS = ("lower", "upper", "strip", "lstrip", "rstrip", "casefold", "title")
# A call's `**mapping` argument is recorded as a keyword argument with this name.
SPREAD = "**"
# A function's `*args` is the parameter `Param(f, STAR + "args")`.
STAR = "*"
# The callables that fix a function's first arguments (summarize/partials.py).
PARTIALS = frozenset({"functools.partial", "functools.partialmethod"})
# Calls that turn a model instance into a dict: methods, and functions by qualified name.
DUMP_METHODS = ("model_dump", "dict")
DUMP_FUNCTIONS = (
    "dataclasses.asdict",
    "builtins.vars",
    "builtins.dict",
    "fastapi.encoders.jsonable_encoder",
)


def spread_pair(mapping: Expr) -> tuple[Expr, Expr]:
    """`**mapping` in a dict display, as one item: every key of the mapping (a
    spread, as `*` in a sequence), each with its own value."""
    return (Star(mapping), Index(mapping, Star(mapping)))


def equal(a: Any, b: Any) -> bool:
    """`a == b`, compared a level at a time: values that differ near the top (a guard
    over a long chain of guards, and another) are told apart without walking down
    each chain first, as the fields-in-order comparison of dataclasses does."""
    pending = [(a, b)]
    while pending:
        deeper: list[tuple[Any, Any]] = []
        for x, y in pending:
            if x is y:
                continue
            if is_dataclass(x) or is_dataclass(y):
                if type(x) is not type(y):
                    return False
                deeper += [(getattr(x, f), getattr(y, f)) for f in _compared(type(x))]
            elif type(x) is tuple and type(y) is tuple:
                if len(x) != len(y):
                    return False
                deeper += zip(x, y, strict=True)
            elif x != y:
                return False
        pending = deeper
    return True


@cache
def _compared(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if f.compare)


@cache
def _fields_of(kind: type) -> tuple[str, ...] | None:
    """The fields of a value's type, None for a type that is no dataclass (asked of
    every part of every value rebuilt or walked: read once a type)."""
    return tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None


def _shape(value: Expr) -> tuple[type, Any]:
    """What two equal values share at a glance: their kind, and a literal's value."""
    return (Lit, value.value) if isinstance(value, Lit) else (type(value), None)


def _fingerprint(value: Any, known: dict[int, int]) -> int:
    """A hash that values `equal` says are equal share; each part's is kept in
    `known` (by identity), so values built one on another are hashed once."""
    stack = [value]
    while stack:
        x = stack[-1]
        if id(x) in known:
            stack.pop()
            continue
        if is_dataclass(x):
            parts = [getattr(x, f) for f in _compared(type(x))]
        elif type(x) is tuple:
            parts = list(x)
        else:
            known[id(x)] = hash(x) if x.__hash__ is not None else 0
            continue
        missing = [p for p in parts if id(p) not in known]
        if missing:
            stack += missing
            continue
        stack.pop()
        known[id(x)] = hash((type(x), *(known[id(p)] for p in parts)))
    return known[id(value)]


FEW_ALIKE = 8  # past this many options of one shape, only those of the same fingerprint


def one_of(options: list[Expr] | tuple[Expr, ...]) -> Expr:
    """A flattened, de-duplicated union; merges parallel lists built by append and
    dicts built by item assignment."""
    flat: list[Expr] = []
    seen: set[int] = set()
    earlier: dict[tuple[type, Any], list[Expr]] = {}  # by `_shape`: only these can be equal
    # A shape with many options (a name given a thousand values) is looked up by
    # fingerprint too: only options of the same one are compared.
    prints: dict[int, int] = {}
    printed: dict[tuple[tuple[type, Any], int], list[Expr]] = {}
    for option in options:
        # A union's own options are distinct already: only what joins them is compared.
        added = []
        for item in option.options if isinstance(option, OneOf) else (option,):
            shape = _shape(item)
            alike = earlier.get(shape, ())
            if len(alike) > FEW_ALIKE:
                alike = printed.get((shape, _fingerprint(item, prints)), ())
            if id(item) not in seen and not any(equal(item, other) for other in alike):
                added.append(item)
                seen.add(id(item))
        for item in added:
            shape = _shape(item)
            bucket = earlier.setdefault(shape, [])
            bucket.append(item)
            if len(bucket) > FEW_ALIKE:  # the whole bucket when it grows past, then each
                for other in bucket if len(bucket) == FEW_ALIKE + 1 else (item,):
                    printed.setdefault((shape, _fingerprint(other, prints)), []).append(other)
        flat += added
    for kind in (Seq, DictLit):
        same = [item for item in flat if isinstance(item, kind)]
        if len(same) > 1:
            merged = same[0]
            for other in same[1:]:
                merged = _merge_items(merged, other)
            flat = [item for item in flat if not isinstance(item, kind)] + [merged]
    return flat[0] if len(flat) == 1 else OneOf(tuple(flat))


def _merge_items(a: Seq | DictLit, b: Seq | DictLit) -> Seq | DictLit:
    """Lists (or dicts) built on different branches, as if every append (or item
    assignment) happened.

    Parallel lists (SET fragments and their parameters) are appended on the
    same branches, so keeping every item in order keeps placeholders and
    parameters aligned; a dict's keys and values stay paired whatever is kept.
    Two whole rows of values of the same length with nothing in common before
    they differ (`params = ("blocked", id)` in the `if`, `("running", id)` in
    the `else`) are one row whose each item is either branch's.
    """
    for whole, part in ((a, b), (b, a)):
        if isinstance(whole, DictLit) and whole.items and whole.items[0][0] == Star(part):
            return whole  # `{**d, ...}` on one branch, `d` on the other
    common = 0
    while common < min(len(a.items), len(b.items)) and a.items[common] == b.items[common]:
        common += 1
    if isinstance(a, Seq) and isinstance(b, Seq) and not common and len(a.items) == len(b.items):
        # Only flat rows of values: nested containers keep the concatenation.
        nested = (Star, Seq, DictLit, OneOf, Comp, BinOp)
        if not any(isinstance(item, nested) for item in a.items + b.items):
            # A pair of items met again on both branches is joined once and shared.
            joined: dict[tuple[int, int], Expr] = {}
            for x, y in zip(a.items, b.items, strict=True):
                if (id(x), id(y)) not in joined:
                    joined[id(x), id(y)] = one_of([x, y])
            return Seq(tuple(joined[id(x), id(y)] for x, y in zip(a.items, b.items, strict=True)))
    return type(a)(a.items + b.items[common:])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Sink:
    """A write to the database found in a function body."""

    kind: str  # "sql" | "table"
    site: Site
    # sql: the SQL text and its parameters; table: the table expression and the record.
    target: Expr
    data: Expr | None
    method: str


@dataclass
class FunctionSummary:
    qualname: str
    params: tuple[str, ...]
    defaults: dict[str, Expr]
    # Number of leading parameters bound by attribute calls (self/cls).
    bound: int
    site: Site
    returns: list[Expr] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    class_name: str = ""
    # Parameter -> its annotation, when it names a class (a request model).
    annotations: dict[str, Expr] = field(default_factory=dict)
    # The decorators above the definition, outermost first (summarize/decorators.py).
    decorators: tuple[Expr, ...] = ()
    # How many of `params`, at their end, are keyword-only (after `*` or `*args`).
    kwonly: int = 0


@dataclass
class ClassSummary:
    qualname: str
    bases: tuple[Expr, ...]
    is_enum: bool
    methods: tuple[str, ...]
    # Annotated class-level names in order (a model's fields) -> their annotations.
    fields: tuple[tuple[str, Expr], ...] = ()
    dataclass: bool = False
    # The class statement's keywords (`class Task(SQLModel, table=True)`).
    keywords: tuple[tuple[str, Expr], ...] = ()


@dataclass
class ModuleSummary:
    module: str
    path: str
    globals: dict[str, Expr] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)


def star_key(module: str) -> str:
    """The key under which `from module import *` is kept among a module's imports:
    no name starts with `*`, so it never shadows one."""
    return f"*{module}"


def star_modules(imports: dict[str, str]) -> list[str]:
    """The modules a module imports everything from, in order."""
    return [target for local, target in imports.items() if local.startswith("*")]


@dataclass
class ChunkSummary:
    """What one top-level statement (a chunk of a module) contributes to its summary.

    A module's summary is its chunks' contributions in order, so a file whose
    one function changed is summarised again from that chunk alone.
    `assigned` are the module-level assignments in order (folded into the
    globals); `env` and `cleared` are what the chunk leaves in, and removes
    from, the module-level environment the next chunk starts with.
    """

    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    assigned: list[tuple[str, Expr]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    sinks: list[Sink] = field(default_factory=list)
    returns: list[Expr] = field(default_factory=list)
    env: dict[str, Expr] = field(default_factory=dict)
    cleared: tuple[str, ...] = ()


def rebuilt(node: Any, change: Callable[[Any], Any]) -> Any:
    """`node` (a value, or a tuple or list of them) with `change` applied to each field or
    item; the very same object when nothing changed, so untouched parts stay shared."""
    if isinstance(node, (tuple, list)):
        items = [change(item) for item in node]
        return node if all(a is b for a, b in zip(items, node, strict=True)) else type(node)(items)
    names = _fields_of(type(node))
    if names is None:
        return node
    changed = {}
    for name in names:
        value = getattr(node, name)
        new = change(value)
        if new is not value:
            changed[name] = new
    return replace(node, **changed) if changed else node


def walk(node: Any, into: Callable[[Any], bool] = lambda part: True) -> Iterator[Any]:
    """Every part of a value (or a tuple of them), each shared part once, in order;
    `into(part)` says whether to look inside a part. A value joined where many
    branches met shares its parts: this costs its size, not its paths."""
    seen: set[int] = set()
    todo = [node]
    while todo:
        part = todo.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        yield part
        if not into(part):
            continue
        if isinstance(part, tuple):
            todo += reversed(part)
        elif (names := _fields_of(type(part))) is not None:
            todo += reversed([getattr(part, name) for name in names])
