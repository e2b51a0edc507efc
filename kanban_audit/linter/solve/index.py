"""Names across the analysed modules: what a qualified name denotes.

Summaries record references as qualified names (`pkg.mod.NAME`); this index
follows imports and re-exports, class bodies and bases, and Enum `.value`
to the function, class, global or module they denote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kanban_audit.linter.values import ClassSummary, Expr, FunctionSummary, ModuleSummary, Ref

Target = tuple[str, str]  # (kind, qualname): kind is function, class, global or module


class ProgramIndex:
    """Every summary's functions, classes and globals by qualified name."""

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        self.modules: dict[str, ModuleSummary] = {}
        # Shorter names of modules (a folder on the way on sys.path): alias -> module.
        self.aliases: Mapping[str, str] = aliases or {}
        self.functions: dict[str, FunctionSummary] = {}
        self.owner: dict[str, ModuleSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.globals: dict[str, Expr] = {}
        self.methods_by_name: dict[str, list[str]] = {}
        self._resolved: dict[str, Target | None] = {}
        # Names that did not resolve while `recording`: what the analysis could not see.
        self.recording = False
        self.unresolved: set[str] = set()

    def add(self, summaries: Iterable[ModuleSummary]) -> None:
        """Add modules; names resolved so far are resolved again on demand."""
        for summary in summaries:
            self.modules.setdefault(summary.module, summary)
            for qual, fn in summary.functions.items():
                self.functions[qual] = fn
                self.owner[qual] = summary
                if fn.bound:
                    self.methods_by_name.setdefault(qual.rsplit(".", 1)[1], []).append(qual)
            self.classes.update(summary.classes)
            self.globals.update(summary.globals)
        self._resolved.clear()

    def resolve(self, qual: str) -> Target | None:
        """What a qualified name denotes, through imports and re-exports."""
        if qual in self._resolved:
            found = self._resolved[qual]
            if found is None and self.recording:
                self.unresolved.add(qual)
            return found
        self._resolved[qual] = None  # guards import cycles
        result: Target | None = None
        if qual in self.functions:
            result = ("function", qual)
        elif qual in self.classes:
            result = ("class", qual)
        elif qual in self.globals:
            result = ("global", qual)
        elif qual in self.modules:
            result = ("module", qual)
        elif self.aliases.get(qual) in self.modules:
            result = ("module", self.aliases[qual])
        elif "." in qual:
            head, last = qual.rsplit(".", 1)
            base = self.resolve(head)
            if base and base[0] == "module" and last in self.modules[base[1]].imports:
                result = self.resolve(self.modules[base[1]].imports[last])
            elif base and base[0] == "module" and base[1] != head:
                result = self.resolve(f"{base[1]}.{last}")  # a member, through an alias
            elif base and base[0] == "class":
                result = self.class_member(base[1], last)
            elif base and base[0] == "global" and last == "value":
                result = base  # an Enum member's .value is the member's value
        self._resolved[qual] = result
        if result is None and self.recording:
            self.unresolved.add(qual)
        return result

    def class_member(
        self, cls: str, name: str, seen: frozenset[str] = frozenset()
    ) -> Target | None:
        """A method or attribute of a class, looked up depth-first through its bases."""
        own = f"{cls}.{name}"
        if own in self.functions:
            return ("function", own)
        if own in self.globals:
            return ("global", own)
        summary = self.classes.get(cls)
        if summary is None or cls in seen:
            return None
        for base in summary.bases:
            if isinstance(base, Ref):
                target = self.resolve(base.qual)
                if target and target[0] == "class":
                    found = self.class_member(target[1], name, seen | {cls})
                    if found:
                        return found
        return None

    def method(self, cls: str, name: str) -> list[tuple[str, int]]:
        """The method `name` of a class as a callee (one bound parameter), if any."""
        member = self.class_member(cls, name)
        return [(member[1], 1)] if member and member[0] == "function" else []

    def site_path(self, qual: str) -> str:
        return self.owner[qual].path
