"""Module names: what an importer writes for each analysed file.

A file's name runs from the nearest folder on an implied sys.path (the
project root, or its `src` folder, as ruff and pyright assume) through
namespace folders (PEP 420: no `__init__.py`) and regular packages to the
file: `plugins/board/store.py` is `plugins.board.store`. A file outside the
root starts at the folder above its topmost regular package.

A script's folder, or a test runner's, also lands on sys.path, so a file
answers to shorter names too (`board.store`, `store`): its aliases. An
import resolves to a module's own name first, then to a module beside the
importer, then to the one module holding that alias; two modules holding
it beside nobody leave the import unresolved.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kanban_audit.linter.values import ModuleSummary, Ref, rebuilt

if TYPE_CHECKING:
    from kanban_audit.linter.discover import SourceFile

SOURCE_FOLDERS = ("src",)


def module_names(path: Path, root: Path) -> tuple[str, tuple[str, ...]]:
    """The module name an importer writes for a file, and its aliases (shorter names)."""
    package = _package(path.parent)
    if path.name == "__init__.py":
        base = package or path.stem
    else:
        stem = path.name.rsplit(".", 1)[0]
        base = f"{package}.{stem}" if package else stem
    top = path.parent
    for _ in package.split(".") if package else ():
        top = top.parent
    chain = _namespace_folders(top, root)
    names = [".".join([*chain[i:], base]) for i in range(len(chain) + 1)]
    return names[0], tuple(names[1:])


@lru_cache(maxsize=4096)
def _package(folder: Path) -> str:
    """The dotted package a folder is, or "" if it holds no __init__.py."""
    if folder.parent == folder or not (folder / "__init__.py").is_file():
        return ""
    parent = _package(folder.parent)
    return f"{parent}.{folder.name}" if parent else folder.name


@lru_cache(maxsize=4096)
def _namespace_folders(top: Path, root: Path) -> tuple[str, ...]:
    """The folders between the nearest implied sys.path entry and `top`, outermost
    first; only the innermost run of folders an import can name."""
    for folder, project in ((top, root), (top.resolve(), root.resolve())):
        for base in [*(project / name for name in SOURCE_FOLDERS), project]:
            try:
                parts = folder.relative_to(base).parts
            except ValueError:
                continue
            blocked = [not p.isidentifier() or keyword.iskeyword(p) for p in parts]
            start = len(parts) - blocked[::-1].index(True) if any(blocked) else 0
            return parts[start:]
    return ()


def unique_names(files: list[SourceFile]) -> list[SourceFile]:
    """Every file with a module name of its own: a later file whose name is taken
    (a stub beside its module, folders no import can name) is named by its path."""
    taken: set[str] = set()
    out = []
    for source in files:
        if source.module in taken:
            source = replace(source, module=source.display)
        taken.add(source.module)
        out.append(source)
    return out


class ModuleTable:
    """The analysed files by module name and by alias."""

    def __init__(self, files: Iterable[SourceFile]) -> None:
        self.files: dict[str, str] = {}  # module -> display path
        holders: dict[str, list[str]] = {}
        for source in files:
            self.files[source.module] = source.display
            for alias in source.aliases:
                holders.setdefault(alias, []).append(source.module)
        self.aliases = {a: tuple(m) for a, m in holders.items() if a not in self.files}
        self.ambiguous = {a for a, m in self.aliases.items() if len(m) > 1}
        heads = "|".join(sorted({re.escape(a.split(".")[0]) for a in self.ambiguous}))
        # An importer of one of them imports its first part: `from conf`, `import a, conf`.
        self._imported = re.compile(
            rb"\b(?:from\s+|import\s+(?:[\w.]+(?:\s+as\s+\w+)?\s*,\s*)*)(?:"
            + heads.encode()
            + rb")\b"
        )

    def unique_aliases(self) -> dict[str, str]:
        """Aliases exactly one module holds, and that module."""
        return {a: m[0] for a, m in self.aliases.items() if len(m) == 1}

    def displays(self, name: str) -> list[str]:
        """The files a module name or an alias may denote."""
        if name in self.files:
            return [self.files[name]]
        return [self.files[m] for m in self.aliases.get(name, ())]

    def localise_all(
        self, summaries: list[ModuleSummary], contents: Mapping[str, bytes]
    ) -> list[ModuleSummary]:
        """Every summary localised (values nest deeply: run it with a deep stack); only
        files whose bytes import an alias several modules hold are read again."""
        if not self.ambiguous:
            return summaries
        return [
            self.localise(s) if self._imported.search(contents.get(s.path, b"")) else s
            for s in summaries
        ]

    def localise(self, summary: ModuleSummary) -> ModuleSummary:
        """The summary with each import of an alias several modules hold resolved to the
        one beside the importer (the folder a script run from there puts on sys.path)."""
        if not self.ambiguous:
            return summary
        rename = self._importer_view(summary)
        memo: dict[int, Any] = {}
        imports = {local: rename(qual) for local, qual in summary.imports.items()}
        localised = _rewrite(summary, rename, memo)
        return replace(localised, imports=imports)

    def _importer_view(self, summary: ModuleSummary) -> Callable[[str], str]:
        parts = summary.module.split(".")
        folder = parts if summary.path.endswith("__init__.py") else parts[:-1]

        def rename(qual: str) -> str:
            names = qual.split(".")
            for n in range(len(names), 0, -1):
                head = ".".join(names[:n])
                if head in self.files or (head in self.aliases and head not in self.ambiguous):
                    return qual
                if head in self.ambiguous:
                    for k in range(len(folder), 0, -1):
                        near = ".".join(folder[:k] + names[:n])
                        if near in self.files:
                            return ".".join([near, *names[n:]])
                    return qual
            return qual

        return rename


def _rewrite(node: Any, rename: Callable[[str], str], memo: dict[int, Any]) -> Any:
    """A copy of a summary node with every Ref renamed; unchanged parts are shared."""
    known = memo.get(id(node))
    if known is not None:
        return known[1]
    result = node
    if isinstance(node, Ref):
        qual = rename(node.qual)
        result = node if qual == node.qual else Ref(qual)
    elif isinstance(node, dict):
        values = {k: _rewrite(v, rename, memo) for k, v in node.items()}
        if any(values[k] is not v for k, v in node.items()):
            result = values
    else:
        result = rebuilt(node, lambda value: _rewrite(value, rename, memo))
    memo[id(node)] = (node, result)
    return result
