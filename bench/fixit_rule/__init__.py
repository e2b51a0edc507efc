"""A trivial LibCST rule for Fixit: the baseline the lint benchmark compares against.

It visits every ``Call`` node and flags none of them, so Fixit's cost is its own
parse, metadata and traversal. It reports one ``parsed`` finding per module so the
benchmark can count the files Fixit really parsed.
"""

from __future__ import annotations

import libcst as cst
from fixit import LintRule


class CountCalls(LintRule):
    """Visit every call; report only the module itself, once."""

    MESSAGE = "parsed"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def visit_Call(self, node: cst.Call) -> None:
        self.calls += 1

    def leave_Module(self, original_node: cst.Module) -> None:
        self.report(original_node, f"parsed ({self.calls} calls)")
