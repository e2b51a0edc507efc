"""Django saves that name their fields: an assignment no save writes is no write.

`task = Task.objects.get(pk=pk); task.status = x; task.save(update_fields=["title"])`
writes the title, not the status: Django's `save(update_fields=[...])` writes the
named fields only. The lint can say so only of an instance it sees whole: a local
bound once to a fetch through the default manager (`Task.objects....get(...)`,
`.first()`, `get_object_or_404(Task, ...)`, orm.py), whose every use in the
function is a field read or assignment, a test (`if task is None`), or a save given
a literal list of field names. Then a field assignment counts only when one of
those saves names the field. Anything else (a save without `update_fields` or with
a computed list, another method called on it, the object passed, returned, stored
or used in a nested function, `self` or a parameter, which a caller may save) is a
save the lint cannot tell, and the assignment counts as before.
"""

from __future__ import annotations

from collections import defaultdict

import libcst as cst

from kanban_audit.linter import orm
from kanban_audit.linter.summarize.names import dotted

# Uses of the object that neither save it nor let it out of the function (`a or b`
# may be the object, so it is not one of them).
_TESTS = (cst.Comparison, cst.ComparisonTarget, cst.If, cst.UnaryOperation)
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


class _Parents(cst.CSTVisitor):
    """Each node's parent, the plain names in the body by value, and the names a
    nested function or class uses (there the object may be saved later)."""

    def __init__(self) -> None:
        self.parent: dict[int, cst.CSTNode] = {}
        self.names: dict[str, list[cst.Name]] = defaultdict(list)
        self.nested: set[str] = set()
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.parent[id(node)] = self._stack[-1]
        self._stack.append(node)
        if isinstance(node, _SCOPES):
            inner = _Parents()
            for child in node.children:
                child.visit(inner)
            self.nested |= set(inner.names) | inner.nested
            return False
        if isinstance(node, cst.Name):
            self.names[node.value].append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()


def may_name_fields(text: bytes) -> bool:
    """Whether code may hold a save that names the fields it saves: without one,
    every save writes every field and `unsaved` finds nothing (and walking each
    function that assigns a field costs more than reading the whole file)."""
    return orm.UPDATE_FIELDS.encode() in text


def unsaved(node: cst.FunctionDef, fields: frozenset[str]) -> frozenset[int]:
    """The field assignment targets (`task.status`, by node id) no save of the
    function writes, of instances it sees whole."""
    if not fields:
        return frozenset()
    tree = _Parents()
    node.body.visit(tree)
    params = {p.name.value for p in _params(node.params)}
    skipped: set[int] = set()
    for name, uses in tree.names.items():
        if name in params or name in tree.nested:
            continue
        targets = _unsaved_targets(tree, uses, fields)
        skipped |= {id(target) for target in targets}
    return frozenset(skipped)


def _params(params: cst.Parameters) -> list[cst.Param]:
    star = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return [*params.posonly_params, *params.params, *params.kwonly_params, *star]


def _unsaved_targets(
    tree: _Parents, uses: list[cst.Name], fields: frozenset[str]
) -> list[cst.Attribute]:
    """The field assignments of one name that no save writes (none if the name is
    not a fetched instance seen whole)."""
    bindings = 0
    targets: list[cst.Attribute] = []
    saved: set[str] = set()
    saves = 0
    for use in uses:
        parent = tree.parent.get(id(use))
        if _named_only(parent, use):
            continue
        if isinstance(parent, cst.AssignTarget) and parent.target is use:
            assign = tree.parent.get(id(parent))
            alone = isinstance(assign, cst.Assign) and len(assign.targets) == 1
            if not (alone and _fetched(assign.value)):  # `a = task = ...`: two names
                return []
            bindings += 1
        elif isinstance(parent, cst.Attribute) and parent.value is use:
            outer = tree.parent.get(id(parent))
            if isinstance(outer, cst.Call) and outer.func is parent:
                named = _saved_fields(parent, outer)
                if named is None:
                    return []
                saved |= named
                saves += 1
            elif isinstance(outer, cst.AssignTarget) and parent.attr.value in fields:
                targets.append(parent)
        elif not isinstance(parent, _TESTS):
            return []
    if bindings != 1 or not saves:
        return []
    return [target for target in targets if target.attr.value not in saved]


def _named_only(parent: cst.CSTNode | None, use: cst.Name) -> bool:
    """A name that is no use of the variable: an attribute's name (`x.task`), a
    keyword (`filter(task=...)`)."""
    if isinstance(parent, cst.Attribute):
        return parent.attr is use
    return isinstance(parent, cst.Arg) and parent.keyword is use


def _fetched(value: cst.BaseExpression) -> bool:
    """`Task.objects.get(...)` (any queryset methods between), `await ...aget(...)`,
    `get_object_or_404(Task, ...)`: a fresh instance from the database."""
    if isinstance(value, cst.Await):
        value = value.expression
    if not isinstance(value, cst.Call):
        return False
    func = value.func
    if isinstance(func, cst.Name):
        return func.value in orm.FETCH_FUNCTIONS
    if not (isinstance(func, cst.Attribute) and func.attr.value in orm.FETCH_METHODS):
        return False
    receiver: cst.BaseExpression = func.value
    while isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute):
        receiver = receiver.func.value
    chain = dotted(receiver) or ""
    return chain.split(".")[-1:] == [orm.MANAGER]


def _saved_fields(method: cst.Attribute, call: cst.Call) -> set[str] | None:
    """The fields a method call on the instance saves: those `save(update_fields=
    [...])` names; None for a save of every field, of fields not known here, or any
    other method (it may save)."""
    if method.attr.value not in orm.SAVE_METHODS:
        return None
    given = next(
        (a.value for a in call.args if a.keyword and a.keyword.value == orm.UPDATE_FIELDS), None
    )
    if not isinstance(given, (cst.List, cst.Tuple, cst.Set)):
        return None
    names: set[str] = set()
    for element in given.elements:
        value = element.value
        if not isinstance(value, cst.SimpleString) or isinstance(element, cst.StarredElement):
            return None
        names.add(str(value.evaluated_value))
    return names
