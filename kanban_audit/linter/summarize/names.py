"""Names in the tree: dotted chains, guard subjects, import targets, assignment targets."""

from __future__ import annotations

import libcst as cst

from kanban_audit.linter.summarize.context import absolute_module


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a chain of plain names, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def subject(node: cst.BaseExpression) -> str | None:
    """A key for a value a guard can narrow: `s`, `body.status`, `body['status']`
    (however the key is quoted: an f-string's items use the other quotes)."""
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        index = node.slice[0].slice
        base = subject(node.value)
        if base and isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            return f"{base}[{index.value.evaluated_value!r}]"
        return None
    if isinstance(node, cst.Attribute):
        base = subject(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return dotted(node)


def import_target(module: str, node: cst.ImportFrom, is_package: bool) -> str:
    """The absolute module a `from ... import` names, relative imports resolved."""
    base = dotted(node.module) if node.module else ""
    return absolute_module(module, is_package, len(node.relative), base or "")


def target_names(target: cst.BaseExpression) -> list[str]:
    """The plain names an assignment target binds."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in target_names(el.value)]
    return []
