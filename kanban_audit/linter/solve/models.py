"""Request models: what a pydantic model or a dataclass instance holds.

A dump of an instance (`body.model_dump()`, `body.dict()`,
`dataclasses.asdict(body)`, `vars(body)`, `dict(body)`) is a dict whose keys
are its class's fields (when the class is in the analysed code; unknown
otherwise) and whose values are its attributes. An attribute is what the
constructor was given (its default otherwise) or, for request data (a
parameter declared as the model with no visible caller, `Model.model_validate
(...)`), unknown but bounded by the field's annotation: `Literal[...]`, an
Enum, or a type that holds no text. Pydantic validates every instance, so its
bounds hold wherever the value comes from. A parameter declared as a model
(or an element of a sequence parameter) is followed through its visible
callers first; request data is what no visible caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from kanban_audit.linter.solve import dispatch
from kanban_audit.linter.solve.atoms import Atom, Frame, binding, narrow
from kanban_audit.linter.solve.mappings import spread_argument
from kanban_audit.linter.values import (
    DUMP_FUNCTIONS,
    DUMP_METHODS,
    Attr,
    Call,
    DictLit,
    Elem,
    Expr,
    Lit,
    OneOf,
    Param,
    Ref,
    Refined,
    Seq,
    Unknown,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

VALIDATORS = ("model_validate", "model_validate_json", "parse_obj", "parse_raw")
MODEL_BASES = ("BaseModel", "SQLModel", "BaseSettings")
RECORD_BASES = ("typing.NamedTuple", "typing_extensions.NamedTuple")
NO_TEXT = ("builtins.int", "builtins.float", "builtins.bool")


@dataclass(frozen=True)
class Model:
    """A model class: its fields (name -> annotation), whether every instance is
    validated (pydantic), and whether it may hold keys beyond its fields."""

    qual: str
    fields: dict[str, Expr]
    validated: bool
    extra: bool


def dumped(ev: Evaluator, call: Call, frame: Frame | None) -> list[Expr] | None:
    """The dicts a dump of an instance can be; None if `call` dumps no instance
    (`dict(x)` of anything but a model is x itself, as before)."""
    instance = _dumped_instance(call)
    if instance is None:
        return None
    narrowed = dict(instance.attrs) if isinstance(instance, Refined) else {}
    if isinstance(instance, Refined):
        instance = instance.expr
    found: list[Expr] = []
    any_model = False
    for struct in ev.structures(instance, frame):
        models = instance_models(ev, struct)
        any_model = any_model or bool(models)
        for model in models:
            found.append(_as_dict(ev, model, struct, call, narrowed))
        if not models:
            found.append(Unknown(f"the fields of {_name(struct)}"))
    is_dict = isinstance(call.func, Ref) and call.func.qual == "builtins.dict"
    return found if any_model or not is_dict else None


def _dumped_instance(call: Call) -> Expr | None:
    func = call.func
    if isinstance(func, Attr) and func.name in DUMP_METHODS:
        return func.base
    dumps = isinstance(func, Ref) and func.qual in DUMP_FUNCTIONS
    if dumps and len(call.args) == 1 and not call.kwargs:
        return call.args[0]
    return None


def _as_dict(
    ev: Evaluator, model: Model, instance: Expr, call: Call, narrowed: dict[str, Expr]
) -> DictLit:
    """The fields of an instance (those `include=` keeps, not those `exclude=`
    drops), the ones a guard narrowed as it left them."""
    options = dict(call.kwargs)
    include = ev.const_set(options.get("include"), None)
    exclude = ev.const_set(options.get("exclude"), None) or frozenset()
    pairs: list[tuple[Expr, Expr]] = [
        (Lit(name), narrowed.get(name, Attr(instance, name)))
        for name in model.fields
        if (include is None or name in include) and name not in exclude
    ]
    if model.extra or any(keyword == "by_alias" for keyword, _ in call.kwargs):
        name = model.qual.rsplit(".", 1)[-1]
        extra = (
            Unknown(f"`{name}` (keys beyond its fields)"),
            Unknown(f"an extra key of `{name}`"),
        )
        pairs.append(extra)
    return DictLit(tuple(pairs))


def attribute(ev: Evaluator, attr: Attr, frame: Frame | None) -> list[Atom] | None:
    """The values of a model's field; None when the base is no model instance."""
    atoms: list[Atom] = []
    seen = False
    for struct in ev.structures(attr.base, frame):
        fields = [m for m in instance_models(ev, struct) if attr.name in m.fields]
        element = isinstance(struct, Elem) and not fields  # `for job in jobs`
        passed = _through_callers(ev, struct, attr.name, frame) if element else None
        if passed is not None:
            seen = True
            atoms += passed
        elif not fields:
            atoms.append(Atom("unknown", f"attribute `.{attr.name}` of {_name(struct)}"))
        for model in fields:
            seen = True
            atoms += _field_values(ev, model, struct, attr.name, frame)
    return atoms if seen else None


def _field_values(
    ev: Evaluator, model: Model, instance: Expr, name: str, frame: Frame | None
) -> list[Atom]:
    if isinstance(instance, Call) and constructed(instance):
        atoms = ev.values(constructor_argument(ev, model, instance, name), frame)
        if not model.validated:
            return atoms
    else:
        followed = _through_callers(ev, instance, name, frame)
        if followed is not None and not model.validated:
            return followed
        request = [Atom("unknown", f"field `{name}` of {_name(instance)} (request data)")]
        atoms = request if followed is None else followed
    allowed = bound(ev, model.fields[name])
    return [n for a in atoms for n in narrow(a, allowed, frozenset())]


def constructed(call: Call) -> bool:
    """`Model(...)`, not `Model.model_validate(...)`."""
    return isinstance(call.func, Ref) and call.func.qual.rsplit(".", 1)[-1] not in VALIDATORS


def constructor_argument(ev: Evaluator, model: Model, call: Call, name: str) -> Expr:
    """What `Model(...)` gives a field: its keyword, its position, a spread mapping's
    item, or the class default."""
    for keyword, value in call.kwargs:
        if keyword == name:
            return value
    position = list(model.fields).index(name)
    if position < len(call.args):
        return call.args[position]
    default = ev.index.globals.get(f"{model.qual}.{name}")
    spread = spread_argument(call, name, default)
    if spread is not None:
        return spread
    return default if default is not None else Lit(None)


def _through_callers(
    ev: Evaluator, instance: Expr, name: str, frame: Frame | None
) -> list[Atom] | None:
    """A field of a parameter (declared as a model, or an element of a sequence
    parameter: `for job in jobs`) as each visible caller passes it (None if none)."""
    param = instance.seq if isinstance(instance, Elem) else instance
    if not isinstance(param, Param):
        return None
    graph = ev.graph
    callers = graph.callers_of(param.func) if graph is not None else []
    if not callers or binding(frame, param.func) is not None:
        return None  # request data, or a recursion: the outer call binds it
    atoms: list[Atom] = []
    for caller, call, offset in callers:
        inner = Frame(param.func, call, caller, offset, frame, on_path=True)
        hop = dispatch.hop(caller, param.func, call)
        for atom in ev.values(Attr(instance, name), inner):
            atoms.append(replace(atom, chain=atom.chain + (hop,)))
    return atoms


def instance_models(ev: Evaluator, struct: Expr) -> list[Model]:
    """The model classes a value is an instance of: a parameter declared as one,
    `Model(...)`, `Model.model_validate(...)`."""
    if isinstance(struct, Param):
        fn = ev.index.functions.get(struct.func)
        declared = fn.annotations.get(struct.name) if fn is not None else None
        return _declared_models(ev, declared) if declared is not None else []
    if isinstance(struct, Call) and isinstance(struct.func, Ref):
        qual = struct.func.qual
        owner, _, method = qual.rpartition(".")
        found = model_of(ev, owner if method in VALIDATORS else qual)
        return [found] if found else []
    return []


def _declared_models(ev: Evaluator, declared: Expr) -> list[Model]:
    if isinstance(declared, OneOf):
        return [m for option in declared.options for m in _declared_models(ev, option)]
    if isinstance(declared, Ref):
        found = model_of(ev, declared.qual)
        return [found] if found else []
    return []


def model_of(
    ev: Evaluator, qual: str, known: dict[str, Model | None] | None = None
) -> Model | None:
    """The model a class name denotes (its fields with its bases'), if it is one.

    Each class is worked out once per call (`known`): a base shared by several
    paths (a diamond) is looked up, not walked again, and a class met again on
    its own path (a cycle) is no model.
    """
    index = ev.index
    target = index.resolve(qual)
    if target is None or target[0] != "class":
        return None
    known = {} if known is None else known
    if target[1] in known:
        return known[target[1]]
    known[target[1]] = None
    known[target[1]] = found = _model(ev, target[1], known)
    return found


def _model(ev: Evaluator, cls: str, known: dict[str, Model | None]) -> Model | None:
    index = ev.index
    summary = index.classes[cls]
    fields: dict[str, Expr] = {}
    validated = False
    extra = False
    is_model = summary.dataclass
    for base in summary.bases:
        if not isinstance(base, Ref):
            continue
        inherited = model_of(ev, base.qual, known)
        if inherited is not None:
            fields.update(inherited.fields)
            validated, extra, is_model = inherited.validated, inherited.extra, True
        elif base.qual.rsplit(".", 1)[-1] in MODEL_BASES and index.resolve(base.qual) is None:
            validated = is_model = True
        elif base.qual in RECORD_BASES:  # fields as a dataclass's, not validated
            is_model = True
    if not is_model:
        return None
    fields.update((name, spec) for name, spec in summary.fields if not name.startswith("_"))
    extra = extra or _allows_extra(ev, cls)
    return Model(cls, fields, validated, extra)


def _allows_extra(ev: Evaluator, cls: str) -> bool:
    """`model_config = ConfigDict(extra="allow")` or `class Config: extra = "allow"`."""
    config = ev.index.globals.get(f"{cls}.model_config")
    setting: Expr | None = ev.index.globals.get(f"{cls}.Config.extra")
    if isinstance(config, Call):
        setting = dict(config.kwargs).get("extra", setting)
    elif config is not None:
        return True
    if setting is None:
        return False
    return ev.const_set(setting, None) not in (frozenset({"ignore"}), frozenset({"forbid"}))


def bound(ev: Evaluator, spec: Expr) -> frozenset[str] | None:
    """The strings an annotation admits; None if any string may pass."""
    if isinstance(spec, Seq):
        return ev.const_set(spec, None)
    if isinstance(spec, OneOf):
        parts = [bound(ev, option) for option in spec.options]
        if any(part is None for part in parts):
            return None
        return frozenset().union(*parts)  # type: ignore[arg-type]
    if isinstance(spec, Lit):
        return frozenset()
    if isinstance(spec, Ref):
        if spec.qual in NO_TEXT:
            return frozenset()
        if spec.qual.startswith("builtins."):
            return None
        target = ev.index.resolve(spec.qual)
        if target and target[0] == "class" and ev.index.classes[target[1]].is_enum:
            prefix = target[1] + "."
            members = tuple(
                value
                for qual, value in ev.index.globals.items()
                if qual.startswith(prefix) and "." not in qual[len(prefix) :]
            )
            return ev.const_set(Seq(members), None)
    return None


def _name(instance: Expr) -> str:
    """How a reason names an instance."""
    if isinstance(instance, Param):
        return f"parameter `{instance.name}`"
    if isinstance(instance, Call) and isinstance(instance.func, Ref):
        return f"`{'.'.join(instance.func.qual.split('.')[-2:])}(...)`"
    return "an object"
