"""No module of kanban_audit imports itself back at run time.

A circle of imports makes every module in it part of every other: none can be
read, tested or replaced alone. The graph is read with `ast` from the source:
imports inside functions count (they run when the function does); imports
under `if TYPE_CHECKING:` do not (they never run). `from pkg import name` is an
import of `pkg.name` when that is a module, else of `pkg`; a module's own
package, imported first by Python, is not an edge of its own.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kanban_audit"


def module_files(package: Path) -> dict[str, tuple[Path, bool]]:
    """Each module's dotted name, with its file and whether it is a package."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
    return name == "TYPE_CHECKING"


def runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at any depth, outside `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child.test):
            for stmt in child.orelse:
                yield from runtime_imports(ast.Module(body=[stmt], type_ignores=[]))
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        yield from runtime_imports(child)


def imported(
    name: str, is_package: bool, stmt: ast.Import | ast.ImportFrom, known: set[str]
) -> set[str]:
    """The analysed modules one import statement in module `name` names."""
    if isinstance(stmt, ast.Import):
        return {alias.name for alias in stmt.names} & known
    base = stmt.module or ""
    if stmt.level:
        here = name.split(".") if is_package else name.split(".")[:-1]
        here = here[: len(here) - (stmt.level - 1)]
        base = ".".join(here + ([stmt.module] if stmt.module else []))
    named = {f"{base}.{alias.name}" for alias in stmt.names}
    return {module if module in known else base for module in named} & known


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the analysed modules it imports at run time."""
    files = module_files(package)
    known = set(files)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = {
            m for stmt in runtime_imports(tree) for m in imported(name, is_package, stmt, known)
        }
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan, iterative)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in order:
            continue
        work = [(root, iter(sorted(graph[root])))]
        order[root] = low[root] = len(order)
        stack.append(root)
        while work:
            node, edges = work[-1]
            step = next((e for e in edges if e not in order or e in stack), None)
            if step is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == order[node]:
                    group = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    if len(group) > 1:
                        found.append(sorted(group))
            elif step in order:
                low[node] = min(low[node], order[step])
            else:
                order[step] = low[step] = len(order)
                stack.append(step)
                work.append((step, iter(sorted(graph[step]))))
    return found


def test_no_module_imports_itself_back_at_run_time() -> None:
    assert cycles(import_graph(PACKAGE)) == []


def test_the_graph_sees_function_level_imports_and_skips_type_checking(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pkg import b\n")
    (package / "b.py").write_text("from . import c\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import x\n"
        "else:\n    from .a import f\n"
    )
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
    )
    graph = import_graph(package)
    assert graph == {
        "pkg": set(),
        "pkg.a": {"pkg.b"},
        "pkg.b": {"pkg.c"},
        "pkg.c": {"pkg.a"},
        "pkg.d": set(),
    }
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
