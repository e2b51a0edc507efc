"""What deciding a write read of the program, so that a grown program decides it again
only when the files added change something it read.

The pre-filter grows the program in rounds, and each round analyses every write
again. Files added later reach a decision already made in three ways only (the
ways the pre-filter itself follows): a name that resolves differently (one that
did not resolve, or now resolves through a new module), a function whose callers
(or whose exposure) changed, a class with new subclasses, a method name with new
methods on receivers of no known type; and through the facts read from the whole
program (created tables, SQL functions, ORM models, decorators). Each write's
decision records what it asked (`Reads`); the next round compares the program's
answers to those questions (`Answers`) with the answers it gave then, and keeps
the decision, with what it recorded for the pre-filter, when none changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kanban_audit.linter.solve.atoms import Issue
    from kanban_audit.linter.solve.program import Program
    from kanban_audit.linter.values import Call, Sink

# `methods` holds this for a lookup among every analysed method (getattr on anything).
ALL_METHODS = "*"
# What is read from the whole program at once (`facts`).
CREATED, SQL_FUNCTIONS, ORM_MODELS = "created", "sql functions", "orm models"


@dataclass
class Reads:
    """The questions one decision asked of the program, and what it recorded for the
    pre-filter (names that did not resolve, functions whose callers mattered, classes
    whose subclasses mattered)."""

    names: set[str] = field(default_factory=set)
    callers: set[str] = field(default_factory=set)
    exposed: set[str] = field(default_factory=set)
    subclasses: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)
    properties: set[str] = field(default_factory=set)  # "": whether there is any
    facts: set[str] = field(default_factory=set)  # CREATED, SQL_FUNCTIONS, ORM_MODELS
    unresolved: set[str] = field(default_factory=set)

    def merge(self, other: Reads) -> None:
        self.names |= other.names
        self.callers |= other.callers
        self.exposed |= other.exposed
        self.subclasses |= other.subclasses
        self.methods |= other.methods
        self.properties |= other.properties
        self.facts |= other.facts
        self.unresolved |= other.unresolved


class Answers:
    """The program's answers to the questions `Reads` holds, each worked out once.
    A call site is compared by identity (the summaries outlive the rounds; the calls
    are kept here so that no other object takes their ids)."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._memo: dict[tuple[str, str], Any] = {}
        self._calls: list[Call] = []
        self._facts: tuple | None = None

    def same(self, reads: Reads, before: Answers) -> bool:
        """Whether this program answers every question of `reads` as `before` did (a
        question `before` was not asked counts as changed)."""
        for kind, key in _questions(reads):
            then = before._memo.get((kind, key), _MISSING)
            if then is _MISSING or self.answer(kind, key) != then:
                return False
        return True

    def keep(self, reads: Reads) -> None:
        """Work out the answers to `reads` now, while the program is this one."""
        for kind, key in _questions(reads):
            self.answer(kind, key)

    def answer(self, kind: str, key: str) -> Any:
        found = self._memo.get((kind, key), _MISSING)
        if found is _MISSING:
            found = self._memo[(kind, key)] = self._work(kind, key)
        return found

    def _work(self, kind: str, key: str) -> Any:
        index, graph = self.program.index, self.program.graph
        if kind == "name":
            return index.resolve(key)
        if kind == "callers":
            sites = graph.callers.get(key, [])
            self._calls += [call for _, call, _ in sites]
            return tuple((caller, id(call), offset) for caller, call, offset in sites)
        if kind == "exposed":
            return graph.exposed.get(key, False)
        if kind == "subclasses":
            return tuple(index.subclasses(key))
        if kind == "property":
            return key in index.properties if key else bool(index.properties)
        if kind == "fact":
            return self.program.fact(key)
        if key == ALL_METHODS:
            return tuple(index.all_methods())
        return tuple(index.methods_by_name.get(key, ()))

    def facts(self) -> tuple:
        """What its decorators make of the program's functions: read by nearly every
        decision, so compared once a round (the wrappers are made anew each round:
        compared by value)."""
        if self._facts is None:
            index = self.program.index
            self._facts = (
                dict(index.wrappers),
                {wrapper: index.functions[wrapper] for wrapper in index.wrapped},
            )
        return self._facts


_MISSING = object()


def _questions(reads: Reads) -> list[tuple[str, str]]:
    return [
        *(("name", key) for key in reads.names),
        *(("callers", key) for key in reads.callers),
        *(("exposed", key) for key in reads.exposed),
        *(("subclasses", key) for key in reads.subclasses),
        *(("methods", key) for key in reads.methods),
        *(("property", key) for key in reads.properties),
        *(("fact", key) for key in reads.facts),
    ]


@dataclass
class Decided:
    """One write's decision in a round: its issues and what it read."""

    sink: Sink
    issues: list[Issue]
    reads: Reads


@dataclass
class Reuse:
    """A run's decisions from the last round, with the answers they were made on."""

    decided: dict[tuple[str, int], Decided] = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # claimpath's parameter values, with reads
    answers: Answers | None = None
