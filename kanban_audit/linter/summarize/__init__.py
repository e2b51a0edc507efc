"""The per-file pass: one LibCST parse -> a picklable ModuleSummary.

module       top-level names, imports, positions of nodes
positions    where calls and statements are (from CPython's parser)
interpreter  the abstract interpreter over function bodies
guards       what a test proves on each branch
writes       which calls write to the database
names        dotted names, guard subjects, import and assignment targets

Nothing here looks at other files; the solver joins the summaries.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from kanban_audit.linter.summarize.interpreter import run_module
from kanban_audit.linter.summarize.module import ModuleAnalyzer
from kanban_audit.linter.summarize.positions import find_positions
from kanban_audit.linter.values import ModuleSummary


def summarize(source: bytes, path: str, module: str, sql_methods: Sequence[str]) -> ModuleSummary:
    """Parse one file and summarise it; raises on syntax errors (the caller reports)."""
    tree = cst.parse_module(source)
    lines = source.decode("utf-8").splitlines()  # the tree's code is the source, exactly
    analyzer = ModuleAnalyzer(
        module, path, find_positions(tree, source), lines, frozenset(sql_methods)
    )
    run_module(analyzer, tree)
    return analyzer.summary
