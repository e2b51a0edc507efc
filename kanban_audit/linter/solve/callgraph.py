"""Who calls whom, and which functions are reachable outside the claim path."""

from __future__ import annotations

from kanban_audit.linter.solve.calls import callees_of
from kanban_audit.linter.solve.evaluate import Evaluator
from kanban_audit.linter.values import Call

CallSite = tuple[str, Call, int]  # (caller, the call, leading params it binds)


class CallGraph:
    """Calls resolved to analysed functions, in both directions."""

    def __init__(self, ev: Evaluator) -> None:
        index = ev.index
        self.callers: dict[str, list[CallSite]] = {}
        self.callees: dict[str, set[str]] = {}
        for qual, fn in index.functions.items():
            for call in fn.calls:
                for callee, offset in callees_of(ev, call.func, qual):
                    self.callers.setdefault(callee, []).append((qual, call, offset))
                    self.callees.setdefault(qual, set()).add(callee)
        self.exposed = self._exposed(ev)
        self.sanctioned = ev.pack.is_sanctioned
        # While set, every function whose callers a decision read (see claimpath.analyse).
        self.consulted: set[str] | None = None

    def callers_of(self, qual: str) -> list[CallSite]:
        """The visible calls of a function; the decision now depends on all of them."""
        if self.consulted is not None:
            self.consulted.add(qual)
        return self.callers.get(qual, [])

    def is_exposed(self, qual: str) -> bool:
        """Whether an entry point reaches the function without passing the claim path;
        the answer depends on the callers of every function above it."""
        if self.consulted is not None:
            todo, seen = [qual], set()
            while todo:
                current = todo.pop()
                if current in seen or self.sanctioned(current):
                    continue
                seen.add(current)
                self.consulted.add(current)
                todo += [caller for caller, _, _ in self.callers.get(current, [])]
        return self.exposed.get(qual, False)

    def _exposed(self, ev: Evaluator) -> dict[str, bool]:
        """Functions reachable from an entry point without passing a sanctioned writer."""
        sanctioned = ev.pack.is_sanctioned
        functions = ev.index.functions
        exposed = {qual: False for qual in functions}
        work = [qual for qual in functions if not self.callers.get(qual) and not sanctioned(qual)]
        for qual in work:
            exposed[qual] = True
        while work:
            qual = work.pop()
            for callee in self.callees.get(qual, ()):
                if not exposed.get(callee, True) and not sanctioned(callee):
                    exposed[callee] = True
                    work.append(callee)
        return exposed
