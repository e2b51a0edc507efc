"""Names across the analysed modules: what a qualified name denotes.

Summaries record references as qualified names (`pkg.mod.NAME`); this index
follows imports and re-exports, class bodies and bases, and Enum `.value`
to the function, class, global or module they denote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kanban_audit.linter.sqlfunctions import Called, SqlFunction

from kanban_audit.linter.solve.reads import ALL_METHODS
from kanban_audit.linter.values import (
    ClassSummary,
    Expr,
    FunctionSummary,
    ModuleSummary,
    Ref,
    star_modules,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.decorators import Made
    from kanban_audit.linter.solve.reads import Reads

Target = tuple[str, str]  # (kind, qualname): kind is function, class, global or module
# `f.__wrapped__`: the function a decorated `f` wraps, as functools.wraps names it.
WRAPPED = ".__wrapped__"


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
        # Classes whose subclasses a decision read while `recording`: files not
        # analysed yet may hold more of them.
        self.subclassed: set[str] = set()
        # While set, what the decision being made asks (solve/reads.py).
        self.reads: Reads | None = None
        self._children: dict[str, list[str]] | None = None
        # The tables the analysed code creates, with their columns (solve/schema.py).
        self.created: dict[str, list[str]] | None = None
        # The SQL functions the program defines, by name, and the calls of them read
        # so far by text (solve/functions.py).
        self.sql_functions: tuple[dict[str, list[SqlFunction]], dict[str, list[Called]]] | None = (
            None
        )
        # The ORM models that are the tasks table (solve/ormmodels.py).
        self.orm_models: frozenset[str] | None = None
        # A decorated function -> the function its name denotes once decorated, and
        # each wrapper made for one -> the function it wraps (solve/decorators.py).
        self.wrappers: dict[str, str] = {}
        self.wrapped: dict[str, str] = {}
        # The wrappers as the decorators define them: only the copies made for the
        # decorated functions run, so these are no entry points of their own.
        self.templates: set[str] = set()
        # Methods whose name reads as what they return (`@property`).
        self.properties: set[str] = set()

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
        self.forget_resolved()
        self._children = None
        self.created = None
        self.sql_functions = None
        self.orm_models = None

    def forget_resolved(self) -> None:
        """Resolve names again on demand (the index holds new names)."""
        self._resolved.clear()

    def resolve(self, qual: str) -> Target | None:
        """What a qualified name denotes, through imports and re-exports."""
        if self.reads is not None:
            self.reads.names.add(qual)
        if qual in self._resolved:
            found = self._resolved[qual]
            if found is None and self.recording:
                self._unresolved(qual)
            return found
        self._resolved[qual] = None  # guards import cycles
        result: Target | None = None
        if qual in self.functions:
            result = ("function", self.denoted(qual))
        elif qual.endswith(WRAPPED) and qual[: -len(WRAPPED)] in self.wrappers:
            result = ("function", qual[: -len(WRAPPED)])
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
            elif base and base[0] == "module":
                result = self._from_stars(base[1], last)
            elif base and base[0] == "class":
                result = self.class_member(base[1], last)
            elif base and base[0] == "global" and last == "value":
                result = base  # an Enum member's .value is the member's value
        self._resolved[qual] = result
        if result is None and self.recording:
            self._unresolved(qual)
        return result

    def _unresolved(self, qual: str) -> None:
        self.unresolved.add(qual)
        if self.reads is not None:
            self.reads.unresolved.add(qual)

    def _from_stars(self, module: str, name: str) -> Target | None:
        """A name a module does not define, from the modules it imports everything from."""
        for star in star_modules(self.modules[module].imports):
            found = self.resolve(f"{star}.{name}")
            if found is not None:
                return found
        return None

    def class_member(self, cls: str, name: str, seen: set[str] | None = None) -> Target | None:
        """A method or attribute of a class, looked up depth-first through its bases.

        Each class is searched once per lookup (`seen`, shared by the whole walk): a
        base reached again through another path (a diamond) holds nothing new, and
        searching it again would double the work at every level of a lattice.
        """
        own = f"{cls}.{name}"
        if own in self.functions:
            return ("function", self.denoted(own))
        if own in self.globals:
            return ("global", own)
        if own in self.classes:  # a nested class (Django's `Task.Status`)
            return ("class", own)
        seen = set() if seen is None else seen
        summary = self.classes.get(cls)
        if summary is None or cls in seen:
            return None
        seen.add(cls)
        for base in summary.bases:
            if isinstance(base, Ref):
                target = self.resolve(base.qual)
                if target and target[0] == "class":
                    found = self.class_member(target[1], name, seen)
                    if found:
                        return found
        return None

    def members(self, owner: str) -> list[tuple[str, str]]:
        """(name, function) of what a class holds (its methods, inherited ones too) or
        a module holds (its top-level functions)."""
        if self.reads is not None:
            self.reads.names.add(owner)
        if owner in self.classes:
            found: dict[str, str] = {}
            for cls in self.ancestors(owner):
                for name in self.classes[cls].methods:
                    found.setdefault(name, f"{cls}.{name}")
            return [
                (name, self.denoted(qual)) for name, qual in found.items() if qual in self.functions
            ]
        module = self.modules.get(owner)
        functions = module.functions if module else {}
        return [
            (qual.rsplit(".", 1)[1], qual)
            for qual in functions
            if qual.rsplit(".", 1)[0] == owner and not qual.endswith(".<module>")
        ]

    def all_methods(self) -> list[tuple[str, str]]:
        """(name, method) of every analysed method."""
        if self.reads is not None:
            self.reads.methods.add(ALL_METHODS)
        return [
            (name, self.denoted(qual))
            for name, quals in self.methods_by_name.items()
            for qual in quals
        ]

    def is_property(self, qual: str) -> bool:
        """Whether a method is read as an attribute (`@property`); "" asks whether
        any is."""
        if self.reads is not None:
            self.reads.properties.add(qual)
        return qual in self.properties if qual else bool(self.properties)

    def read_fact(self, name: str) -> None:
        """Note that the decision being made reads a whole-program fact (reads.py)."""
        if self.reads is not None:
            self.reads.facts.add(name)

    def methods_named(self, name: str) -> list[str]:
        """Every analysed method of that name."""
        if self.reads is not None:
            self.reads.methods.add(name)
        return self.methods_by_name.get(name, [])

    def set_wrappers(
        self, wrappers: dict[str, str], made: list[Made], properties: set[str]
    ) -> None:
        """What decorated names denote, the wrappers made for them, and the methods
        read as attributes (replacing those of an earlier call: the program grew)."""
        for qual in self.wrapped:
            del self.functions[qual]
            del self.owner[qual]
        self.wrappers = wrappers
        self.wrapped = {}
        self.templates = {wrapper.source for wrapper in made}
        self.properties = properties
        for wrapper in made:
            qual = wrapper.summary.qualname
            self.functions[qual] = wrapper.summary
            self.owner[qual] = self.owner[wrapper.source]
            self.wrapped[qual] = wrapper.target
        self._resolved.clear()
        self.created = None  # the wrappers run SQL too

    def denoted(self, qual: str) -> str:
        """The function a defined function's name denotes: itself, or what its
        decorators made of it."""
        return self.wrappers.get(qual, qual)

    def origin(self, qual: str) -> str:
        """The function whose code a function runs as its own: a wrapper made for a
        decorated function stands in for it (its claim path is that function's)."""
        while qual in self.wrapped:
            qual = self.wrapped[qual]
        return qual

    def attribute(self, cls: str, name: str) -> list[str]:
        """Where the values of `self.<name>` in a method of `cls` are kept: the class
        attribute and what methods store, in the class, its bases and its subclasses
        (an instance of any of them may be `self`)."""
        lineage = self.ancestors(cls) + self.subclasses(cls)
        return [f"{c}.{name}" for c in lineage if f"{c}.{name}" in self.globals]

    def ancestors(self, cls: str, seen: set[str] | None = None) -> list[str]:
        """The class and its bases, depth-first, each once."""
        seen = set() if seen is None else seen
        if cls in seen:
            return []
        seen.add(cls)
        found = [cls]
        summary = self.classes.get(cls)
        for base in summary.bases if summary else ():
            target = self.resolve(base.qual) if isinstance(base, Ref) else None
            if target and target[0] == "class":
                found += self.ancestors(target[1], seen)
        return found

    def subclasses(self, cls: str) -> list[str]:
        """The analysed classes derived from `cls`, at any depth."""
        if self.recording:
            self.subclassed.add(cls)
        if self.reads is not None:
            self.reads.subclasses.add(cls)
        children = self._children if self._children is not None else self._derive()
        found: list[str] = []
        todo = list(children.get(cls, ()))
        while todo:
            current = todo.pop()
            if current not in found and current != cls:
                found.append(current)
                todo += children.get(current, ())
        return found

    def _derive(self) -> dict[str, list[str]]:
        """Each class's direct subclasses. Bases that do not resolve are not what the
        decision needs, so they are not recorded as unresolved."""
        recording, self.recording = self.recording, False
        children: dict[str, list[str]] = {}
        try:
            for qual, summary in self.classes.items():
                for base in summary.bases:
                    target = self.resolve(base.qual) if isinstance(base, Ref) else None
                    if target and target[0] == "class":
                        children.setdefault(target[1], []).append(qual)
        finally:
            self.recording = recording
        self._children = children
        return children

    def method(self, cls: str, name: str) -> list[tuple[str, int]]:
        """The method `name` of a class as a callee (its instance bound; nothing bound
        for a static method), if any."""
        member = self.class_member(cls, name)
        if not member or member[0] != "function":
            return []
        static = member[1] in self.functions and not self.functions[member[1]].bound
        return [(member[1], 0 if static else 1)]

    def site_path(self, qual: str) -> str:
        return self.owner[qual].path
