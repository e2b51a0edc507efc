"""Who calls whom, and which functions are reachable outside the claim path."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kanban_audit.linter.solve.calls import Callee, callees_of
from kanban_audit.linter.solve.context import TooComplex
from kanban_audit.linter.solve.evaluate import Evaluator
from kanban_audit.linter.values import Call

CallSite = tuple[str, Call, int]  # (caller, the call, leading params it binds)


class CallGraph:
    """Calls resolved to analysed functions, in both directions."""

    def __init__(self, ev: Evaluator) -> None:
        index = self.index = ev.index
        self.callers: dict[str, list[CallSite]] = {}
        self.callees: dict[str, set[str]] = {}
        for qual, fn in index.functions.items():
            if fn.calls:
                ev.reset()  # a budget, and a memo, per calling function
            for call in fn.calls:
                for callee, offset in _callees(ev, call, qual):
                    self.callers.setdefault(callee, []).append((qual, call, offset))
                    self.callees.setdefault(qual, set()).add(callee)
        self.sanctioned = lambda qual: sanctioned(ev, qual)
        self.exposed = self._exposed(ev)
        # While set, every function whose callers a decision read (see claimpath.analyse).
        self.consulted: set[str] | None = None

    def callers_of(self, qual: str) -> list[CallSite]:
        """The visible calls of a function; the decision now depends on all of them."""
        if self.consulted is not None:
            self.consulted.add(qual)
        if self.index.reads is not None:
            self.index.reads.callers.add(qual)
        return self.callers.get(qual, [])

    def is_exposed(self, qual: str) -> bool:
        """Whether an entry point reaches the function without passing the claim path;
        the answer depends on the callers of every function above it."""
        reads = self.index.reads
        if reads is not None:
            reads.exposed.add(qual)
        if self.consulted is not None:
            todo, seen = [qual], set()
            while todo:
                current = todo.pop()
                if current in seen or self.sanctioned(current):
                    continue
                seen.add(current)
                self.consulted.add(current)
                if reads is not None:
                    reads.callers.add(current)
                todo += [caller for caller, _, _ in self.callers.get(current, [])]
        return self.exposed.get(qual, False)

    def _exposed(self, ev: Evaluator) -> dict[str, bool]:
        """Functions reachable from an entry point without passing a sanctioned writer.

        Entry points are the functions nothing else calls: no caller at all, or only
        callers in their own cycle (a recursive handler, a dispatcher whose unknown
        name may reach itself) when the cycle does not pass a sanctioned writer. A
        wrapper a decorator defines runs only as the copy made for each function it
        decorates (solve/decorators.py): the copies are called, the wrapper is not.
        """
        sanctioned = self.sanctioned
        functions = ev.index.functions
        exposed = {qual: False for qual in functions}
        work = [q for q in self._entries(functions, sanctioned) if q not in ev.index.templates]
        for qual in work:
            exposed[qual] = True
        while work:
            qual = work.pop()
            for callee in self.callees.get(qual, ()):
                if not exposed.get(callee, True) and not sanctioned(callee):
                    exposed[callee] = True
                    work.append(callee)
        return exposed

    def _entries(self, functions: Iterable[str], sanctioned: Callable[[str], bool]) -> list[str]:
        """The functions of every cycle (or single function) no outside function calls,
        unless it holds a sanctioned writer (then it is the claim path's)."""
        entries: list[str] = []
        for component in strongly_connected(functions, self.callees):
            if any(sanctioned(qual) for qual in component):
                continue
            members = set(component)
            outside = (
                caller
                for qual in component
                for caller, _, _ in self.callers.get(qual, ())
                if caller not in members
            )
            if next(outside, None) is None:
                entries += component
        return entries


def sanctioned(ev: Evaluator, qual: str) -> bool:
    """Whether a function is a sanctioned writer; a wrapper made for a decorated
    function is one when that function is (solve/decorators.py)."""
    is_sanctioned = ev.pack.is_sanctioned
    return is_sanctioned(qual) or is_sanctioned(ev.index.origin(qual))


def strongly_connected(nodes: Iterable[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of a graph (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


def _callees(ev: Evaluator, call: Call, caller: str) -> list[Callee]:
    """`callees_of` the call, or none when working them out takes more than a budget
    (a name looked up on a receiver built past it): as for a lookup whose receiver
    and name are both unknown."""
    try:
        return callees_of(ev, call.func, caller)
    except (TooComplex, RecursionError):
        return []
