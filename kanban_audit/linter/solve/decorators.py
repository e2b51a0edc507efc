"""Decorators: what the name of a decorated function denotes.

`@deco` above `def f` binds `f` to `deco(f)`, as `f = deco(f)` after it does
(or `Cls.m = deco(Cls.m)`); a decorator class is read by decorator_classes.py.
When `deco` is an analysed function, what it returns says what a call of `f`
reaches:

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

from kanban_audit.linter.solve import decorator_classes, receivers
from kanban_audit.linter.solve.atoms import Frame, short
from kanban_audit.linter.solve.index import WRAPPED, ProgramIndex
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
    Unknown,
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
        decorators = (*_rebound(index, qual), *fn.decorators)
        if not decorators:
            continue
        if fn.class_name and any(_is_property(ev, d) for d in decorators):
            properties.add(qual)
            continue
        current = qual
        for decorator in reversed(decorators):
            current = _applied(ev, decorator, current, qual, made) or current
        if current != qual:
            wrappers[qual] = current
    index.set_wrappers(wrappers, list(made.values()), properties)


def _rebound(index: ProgramIndex, qual: str) -> tuple[Expr, ...]:
    """`f = deco(f)` after `def f` (in a module or a class body), `Cls.m = deco(Cls.m)`:
    `deco`, applied after the decorators above the definition."""
    value = index.globals.get(qual)
    if not isinstance(value, Call) or len(value.args) != 1 or value.kwargs:
        return ()
    passed = value.args[0]
    if isinstance(passed, Attr) and isinstance(passed.base, Ref):
        passed = Ref(f"{passed.base.qual}.{passed.name}")
    return (value.func,) if passed == Ref(qual) else ()


def _is_property(ev: Evaluator, decorator: Expr) -> bool:
    """`@property`, `@functools.cached_property`: the method's name reads as a value."""
    if not isinstance(decorator, Ref):
        return False
    return decorator.qual in PROPERTIES and ev.index.resolve(decorator.qual) is None


def property_read(ev: Evaluator, attr: Attr) -> Call | None:
    """`obj.name` where `name` is a property of the class `obj` is an instance of: a
    call of the method with `obj` as its instance. The same call each time it is
    asked for: what the method returns is then read once per frame, not once per
    reading of the name."""
    # `self.qualified`, written many times in a method, is one key; else the very object.
    key = ("property", attr) if isinstance(attr.base, Param) else ("property", id(attr))
    return ev.remembered(ev.lasting, key, lambda: _property_call(ev, attr), attr)


def _property_call(ev: Evaluator, attr: Attr) -> Call | None:
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
    fields: decorator_classes.Fields = {}
    decorator = _made_once(ev, decorator)
    if isinstance(decorator, (Ref, Call)) and _named(decorator) in TRANSPARENT:
        return target
    argument = Ref(target + WRAPPED) if target == decorated else Ref(target)
    inner = made[target].summary if target in made else ev.index.functions[target]
    instance_call = decorator_classes.call_method(ev, decorator)
    if instance_call is not None:  # `@retry` of a class: its `__call__` wraps the function
        construction = Call(decorator, (argument,), (), inner.site)
        fields = decorator_classes.fields(ev, instance_call, construction)
        return _wrapper(ev.index.functions[instance_call], target, inner, {}, fields, made)
    if isinstance(decorator, Call) and (
        deco := decorator_classes.call_method(ev, decorator.func)
    ):  # `@retry(3)` of a class: the instance's `__call__` is the decorator
        fields = decorator_classes.fields(ev, deco, decorator)
    elif isinstance(decorator, Call):  # a factory: `@retry(3)` is what `retry(3)` returns
        factory = _function(ev, decorator.func)
        if factory is None:
            return None
        fn = ev.index.functions[factory]
        frame = Frame(factory, decorator, "", 0, None, on_path=False)
        bindings[factory] = {name: ev.argument(frame, name) for name in fn.params}
        nested = {_nested(ev, ret, factory) for ret in fn.returns}
        if len(nested) != 1 or None in nested:
            return None
        deco = nested.pop()
    else:
        deco = _function(ev, decorator)
    if deco is None or len(ev.index.functions[deco].params) <= ev.index.functions[deco].bound:
        return None
    fn = ev.index.functions[deco]
    bindings[deco] = {**fn.defaults, fn.params[fn.bound]: argument}
    outcomes = {_outcome(ev, ret, deco) for ret in fn.returns}
    if len(outcomes) != 1:
        return None
    outcome = outcomes.pop()
    if outcome is None or outcome == "":
        return target if outcome == "" else None
    if not outcome.startswith(deco + "."):
        return outcome  # another function replaces the decorated one
    return _wrapper(ev.index.functions[outcome], target, inner, bindings, fields, made)


def _wrapper(
    source: FunctionSummary,
    target: str,
    inner: FunctionSummary,
    bindings: Bindings,
    fields: decorator_classes.Fields,
    made: dict[str, Made],
) -> str:
    """The wrapper `source` made for `target`, kept in `made`; its name."""
    wrapper = _made(source, target, inner, bindings, fields)
    made[wrapper.qualname] = Made(wrapper, source.qualname, target)
    return wrapper.qualname


def _made_once(ev: Evaluator, decorator: Expr) -> Expr:
    """`retry_db = retry(times=3)` then `@retry_db`: the call that made the decorator."""
    target = ev.index.resolve(decorator.qual) if isinstance(decorator, Ref) else None
    if target and target[0] == "global" and isinstance(ev.index.globals[target[1]], Call):
        return ev.index.globals[target[1]]
    return decorator


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
        fn = ev.index.functions[deco]
        return "" if ret.name == fn.params[fn.bound] else None
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
    wrapper: FunctionSummary,
    target: str,
    inner: FunctionSummary,
    bindings: Bindings,
    fields: decorator_classes.Fields,
) -> FunctionSummary:
    """The wrapper, made for the function `target` (`inner`): the decorator's
    parameters (and a decorator instance's fields) bound; a wrapper that reads its
    `*args`/`**kwargs` takes the target's parameters in their place. A `__call__`
    made the wrapper takes the call's arguments after its instance."""
    qual = f"{target}{MADE}{short(wrapper.qualname)}"
    own = wrapper.params[: wrapper.bound]  # the decorator instance of a `__call__`
    named = wrapper.params[wrapper.bound : len(wrapper.params) - wrapper.kwonly]
    body = (*wrapper.returns, *wrapper.calls, *wrapper.sinks)
    spreads = any(
        isinstance(part, Param) and part.func == wrapper.qualname and part.name.startswith(STAR)
        for part in walk(body)
    )
    last = len(inner.params) - inner.kwonly
    rest = inner.params[len(named) : last] if spreads else ()
    keywords = inner.params[last:] if spreads else ()
    params = (*named, *rest, *keywords, *wrapper.params[len(own) + len(named) :])
    defaults = {p: inner.defaults[p] for p in rest + keywords if p in inner.defaults}
    done: dict[int, Any] = {}

    def change(part: Any) -> Any:
        if id(part) in done:  # a part shared where branches met is made once
            return done[id(part)]
        if fields and isinstance(part, Attr) and part in fields:
            new = fields[part]
        elif isinstance(part, Param):
            if part.func == wrapper.qualname and part.name in own:
                new = Unknown("the decorator's instance")
            elif part.func == wrapper.qualname:
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
