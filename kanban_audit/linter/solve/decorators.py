"""Decorators: what the name of a decorated function denotes.

`@deco` above `def f` binds `f` to `deco(f)`. When `deco` is an analysed
function, what it returns says what a call of `f` reaches:

- `f` itself (`return func`, a decorator that registers): calls reach `f`;
- a function defined inside the decorator (the wrapper, with `functools.wraps`
  or not): calls reach that wrapper, made anew for `f` with the decorator's
  parameters (and a factory's, `@retry(3)`) replaced by what the decoration
  passes. A wrapper taking `*args`/`**kwargs` takes `f`'s parameters in their
  place, so `func(*args, **kwargs)` passes each call's values on as they are,
  and what the wrapper does with `func`'s result (`sql, params = func(...)`
  then `cur.execute(sql, params)`) is read with `f`'s returns; a wrapper that
  passes values of its own decides what `f` receives;
- another analysed function: calls reach it instead of `f`.

A decorator the lint cannot read (not analysed, or returning anything else)
leaves `f` as it is: calls reach `f` with their own values. A method under
`@property` (or `functools.cached_property`) is called where its name is read
on an instance (`self.sql`): the instance is what it reads `self.x` from.

The wrapper made for `f` stands in for it: it is sanctioned when `f` is
(index.origin), and is named `f.<decorated>.<wrapper>` so that a trace shows
the call of `f` and the wrapper's own lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kanban_audit.linter.solve import receivers
from kanban_audit.linter.solve.atoms import Frame, short
from kanban_audit.linter.solve.index import WRAPPED
from kanban_audit.linter.values import (
    SPREAD,
    STAR,
    Attr,
    Call,
    DictLit,
    Expr,
    FunctionSummary,
    Lit,
    Param,
    Ref,
    Seq,
    rebuilt,
    spread_pair,
    walk,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

# Calls that return the wrapper they are given: `functools.wraps(func)(wrapper)`,
# `functools.update_wrapper(wrapper, func)`.
WRAPS = "functools.wraps"
UPDATE_WRAPPER = "functools.update_wrapper"
MADE = ".<decorated>."  # between a decorated function's name and its wrapper's
# Decorators that make a method's name read as what the method returns.
PROPERTIES = frozenset({"builtins.property", "functools.cached_property"})
# Decorators that leave a function's calls as they are (what they change is not a
# value the lint reads).
TRANSPARENT = frozenset(
    {
        "builtins.staticmethod",
        "builtins.classmethod",
        "abc.abstractmethod",
        "functools.cache",
        "functools.lru_cache",
        "typing.override",
        "typing_extensions.override",
    }
)

Bindings = dict[str, dict[str, Expr]]  # function -> parameter -> the value it is bound to


@dataclass(frozen=True)
class Made:
    """A wrapper made for a decorated function (or for a wrapper made before it)."""

    summary: FunctionSummary
    source: str  # the wrapper as the decorator defines it
    target: str  # what it wraps


def decorate(ev: Evaluator) -> None:
    """Apply every analysed decorator: the index learns what each decorated name
    denotes, and holds the wrappers made for them."""
    index = ev.index
    index.set_wrappers({}, [], set())
    wrappers: dict[str, str] = {}
    made: dict[str, Made] = {}
    properties: set[str] = set()
    for qual, fn in list(index.functions.items()):
        if not fn.decorators:
            continue
        if fn.class_name and any(_is_property(ev, d) for d in fn.decorators):
            properties.add(qual)
            continue
        current = qual
        for decorator in reversed(fn.decorators):
            current = _applied(ev, decorator, current, qual, made) or current
        if current != qual:
            wrappers[qual] = current
    index.set_wrappers(wrappers, list(made.values()), properties)


def _is_property(ev: Evaluator, decorator: Expr) -> bool:
    """`@property`, `@functools.cached_property`: the method's name reads as a value."""
    if not isinstance(decorator, Ref):
        return False
    return decorator.qual in PROPERTIES and ev.index.resolve(decorator.qual) is None


def property_read(ev: Evaluator, attr: Attr) -> Call | None:
    """`obj.name` where `name` is a property of the class `obj` is an instance of: a
    call of the method with `obj` as its instance."""
    base = attr.base
    classes = receivers.classes_of(ev.index, base) if ev.index.is_property("") else None
    for cls in classes or ():
        member = ev.index.class_member(cls, attr.name)
        if member and member[0] == "function" and ev.index.is_property(member[1]):
            return Call(Ref(member[1]), (base,), (), ev.index.functions[member[1]].site)
    return None


def called_name(qual: str) -> str:
    """The name a call of a function is written with: a wrapper's is the name of the
    function it was made for."""
    return short(qual.split(MADE, 1)[0])


def _applied(
    ev: Evaluator, decorator: Expr, target: str, decorated: str, made: dict[str, Made]
) -> str | None:
    """What `decorator(target)` is, as a function: `target`, a wrapper made for it (in
    `made`), or another function; None when the lint cannot tell (then calls reach
    `target` as they are)."""
    bindings: Bindings = {}
    if isinstance(decorator, (Ref, Call)) and _named(decorator) in TRANSPARENT:
        return target
    if isinstance(decorator, Call):  # a factory: `@retry(3)` is what `retry(3)` returns
        factory = _function(ev, decorator.func)
        if factory is None:
            return None
        fn = ev.index.functions[factory]
        frame = Frame(factory, decorator, "", 0, None, on_path=False)
        bindings[factory] = {name: ev.argument(frame, name) for name in fn.params}
        inner = {_nested(ev, ret, factory) for ret in fn.returns}
        if len(inner) != 1 or None in inner:
            return None
        deco = inner.pop()
    else:
        deco = _function(ev, decorator)
    if deco is None or not ev.index.functions[deco].params:
        return None
    fn = ev.index.functions[deco]
    argument = Ref(target + WRAPPED) if target == decorated else Ref(target)
    bindings[deco] = {**fn.defaults, fn.params[0]: argument}
    outcomes = {_outcome(ev, ret, deco) for ret in fn.returns}
    if len(outcomes) != 1:
        return None
    outcome = outcomes.pop()
    if outcome is None or outcome == "":
        return target if outcome == "" else None
    if not outcome.startswith(deco + "."):
        return outcome  # another function replaces the decorated one
    inner = made[target].summary if target in made else ev.index.functions[target]
    wrapper = _made(ev.index.functions[outcome], target, inner, bindings)
    made[wrapper.qualname] = Made(wrapper, outcome, target)
    return wrapper.qualname


def _named(decorator: Ref | Call) -> str:
    """The name a decorator is called by: `functools.lru_cache` for `@lru_cache(64)`."""
    named = decorator.func if isinstance(decorator, Call) else decorator
    return named.qual if isinstance(named, Ref) else ""


def _function(ev: Evaluator, expr: Expr) -> str | None:
    """The analysed function an expression names, if it names one."""
    if not isinstance(expr, Ref):
        return None
    target = ev.index.resolve(expr.qual)
    return target[1] if target and target[0] == "function" else None


def _nested(ev: Evaluator, ret: Expr, outer: str) -> str | None:
    """The function defined in `outer` that a return value names, if it is one."""
    qual = _function(ev, _unwrapped(ret))
    return qual if qual and qual.startswith(outer + ".") else None


def _outcome(ev: Evaluator, ret: Expr, deco: str) -> str | None:
    """What one return of a decorator is: "" the function it decorates, the name of
    a function, or None (not known here)."""
    ret = _unwrapped(ret)
    if isinstance(ret, Param) and ret.func == deco:
        params = ev.index.functions[deco].params
        return "" if ret.name == params[0] else None
    return _function(ev, ret)


def _unwrapped(ret: Expr) -> Expr:
    """`functools.wraps(func)(wrapper)` and `functools.update_wrapper(wrapper, func)`
    are the wrapper."""
    if isinstance(ret, Call) and ret.args:
        func = ret.func
        if isinstance(func, Call) and isinstance(func.func, Ref) and func.func.qual == WRAPS:
            return ret.args[0]
        if isinstance(func, Ref) and func.qual == UPDATE_WRAPPER:
            return ret.args[0]
    return ret


def _made(
    wrapper: FunctionSummary, target: str, inner: FunctionSummary, bindings: Bindings
) -> FunctionSummary:
    """The wrapper, made for the function `target` (`inner`): the decorator's
    parameters bound; a wrapper that reads its `*args`/`**kwargs` takes the target's
    parameters in their place."""
    qual = f"{target}{MADE}{short(wrapper.qualname)}"
    named = wrapper.params[: len(wrapper.params) - wrapper.kwonly]
    body = (*wrapper.returns, *wrapper.calls, *wrapper.sinks)
    spreads = any(
        isinstance(part, Param) and part.func == wrapper.qualname and part.name.startswith(STAR)
        for part in walk(body)
    )
    last = len(inner.params) - inner.kwonly
    rest = inner.params[len(named) : last] if spreads else ()
    keywords = inner.params[last:] if spreads else ()
    params = (*named, *rest, *keywords, *wrapper.params[len(named) :])
    defaults = {p: inner.defaults[p] for p in rest + keywords if p in inner.defaults}
    done: dict[int, Any] = {}

    def change(part: Any) -> Any:
        if id(part) in done:  # a part shared where branches met is made once
            return done[id(part)]
        if isinstance(part, Param):
            if part.func == wrapper.qualname:
                new = _parameter(qual, part.name, rest, keywords)
            else:
                new = bindings.get(part.func, {}).get(part.name, part)
        elif isinstance(part, (str, int, float, bool)) or part is None:
            return part
        else:
            new = rebuilt(part, change)
        done[id(part)] = new
        return new

    return FunctionSummary(
        qual,
        params,
        {**defaults, **{p: change(v) for p, v in wrapper.defaults.items()}},
        inner.bound,
        wrapper.site,
        returns=change(wrapper.returns),
        calls=change(wrapper.calls),
        sinks=change(wrapper.sinks),
        class_name=inner.class_name,
        annotations={p: change(v) for p, v in wrapper.annotations.items()},
        kwonly=len(keywords) + wrapper.kwonly,
    )


def _parameter(qual: str, name: str, rest: tuple[str, ...], keywords: tuple[str, ...]) -> Expr:
    """A wrapper's parameter in the wrapper made for a function: `*args` holds the
    function's positional parameters past the wrapper's own, `**kwargs` its
    keyword-only ones (and any other keyword a call passes)."""
    if name.startswith(SPREAD):
        pairs = tuple((Lit(k), Param(qual, k)) for k in keywords)
        return DictLit((*pairs, spread_pair(Param(qual, name))))
    if name.startswith(STAR):
        return Seq(tuple(Param(qual, p) for p in rest))
    return Param(qual, name)
