"""What a whole module tells each of its statements: the names defined at top
level and what its imports bind. Read from CPython's `ast`, which is cheap, so
that a statement can be summarised without parsing the rest of the file."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from kanban_audit.linter.values import star_key

_NESTED = (ast.If, ast.Try, ast.With, ast.AsyncWith) + (
    (ast.TryStar,) if hasattr(ast, "TryStar") else ()
)


@dataclass(frozen=True)
class ModuleContext:
    module: str
    is_package: bool
    top_names: frozenset[str]
    imports: dict[str, str]


def module_context(tree: ast.Module, module: str, is_package: bool) -> ModuleContext:
    names: set[str] = set()
    imports: dict[str, str] = {}
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        stmt = todo.pop(0)
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                names.update(target_names(target))
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
            names.update(target_names(stmt.target))
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            imports.update(import_bindings(stmt, module, is_package))
        elif isinstance(stmt, _NESTED):
            todo[:0] = _nested_statements(stmt)
    return ModuleContext(module, is_package, frozenset(names), imports)


def _nested_statements(stmt: ast.stmt) -> list[ast.stmt]:
    """The statements of an if/try/with body and its clauses, in order."""
    found = list(stmt.body)  # type: ignore[attr-defined]
    for handler in getattr(stmt, "handlers", ()):
        found += handler.body
    return found + list(getattr(stmt, "orelse", ())) + list(getattr(stmt, "finalbody", ()))


def target_names(target: ast.expr) -> list[str]:
    """The plain names an assignment target binds."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for element in target.elts for n in target_names(element)]
    if isinstance(target, ast.Starred):
        return target_names(target.value)
    return []


def import_bindings(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool
) -> dict[str, str]:
    """Local name -> the qualified name it binds."""
    bound: dict[str, str] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.asname:
                bound[alias.asname] = alias.name
            else:
                first = alias.name.split(".")[0]
                bound[first] = first
        return bound
    base = absolute_module(module, is_package, node.level, node.module or "")
    for alias in node.names:
        if alias.name == "*":
            bound[star_key(base)] = base
            continue
        bound[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    return bound


def absolute_module(module: str, is_package: bool, level: int, name: str) -> str:
    """The module a `from <dots><name> import ...` in `module` refers to."""
    if not level:
        return name
    parts = module.split(".")
    up = level - (1 if is_package else 0)
    anchor = parts[: len(parts) - up] if up else parts
    return ".".join([*anchor, name] if name else anchor)
