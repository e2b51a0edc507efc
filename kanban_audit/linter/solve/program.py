"""The analysed program: index, evaluator and call graph over the summaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kanban_audit.linter.solve import decorators, functions, ormmodels, partial_globals, schema
from kanban_audit.linter.solve.callgraph import CallGraph
from kanban_audit.linter.solve.evaluate import Evaluator
from kanban_audit.linter.solve.index import ProgramIndex
from kanban_audit.linter.solve.reads import CREATED, SQL_FUNCTIONS, Reuse
from kanban_audit.linter.sqlfiles import SqlFiles
from kanban_audit.linter.values import ModuleSummary
from kanban_audit.rulepack import RulePack


class Program:
    """The summaries joined: names resolved, values evaluable, calls linked.

    `add()` grows the program file by file; the call graph is rebuilt once
    per growth, the index keeps what it has.
    """

    def __init__(
        self,
        summaries: Iterable[ModuleSummary],
        pack: RulePack,
        aliases: Mapping[str, str] | None = None,
        sql_files: SqlFiles | None = None,
    ) -> None:
        self.pack = pack
        self.index = ProgramIndex(aliases)
        self.ev = Evaluator(self.index, pack, sql_files)
        # The last round's decisions, kept for the next (claimpath.py).
        self.reuse = Reuse()
        self.add(summaries)

    def add(self, summaries: Iterable[ModuleSummary]) -> None:
        self.index.add(summaries)
        partial_globals.add(self.index)
        self.ev.reset()
        decorators.decorate(self.ev)
        self.ev.grown()
        self.ev.reset()
        self.graph = CallGraph(self.ev)
        self.ev.graph = self.graph
        self.ev.reset()

    def fact(self, name: str) -> Any:
        """What the program says of a whole-program fact (reads.py): the tasks table's
        columns as it creates them, the SQL functions it defines, or its tasks models:
        worked out as the solver does when a decision first reads them."""
        if name == CREATED:
            return schema.column_orders(self.index, self.pack)
        if name == SQL_FUNCTIONS:
            return functions.defined(self.ev)
        self.ev.reset()
        return ormmodels.tasks_models(self.ev)

    @property
    def functions(self):  # noqa: ANN201 - the index's mapping
        return self.index.functions

    def site_path(self, qual: str) -> str:
        return self.index.site_path(qual)
