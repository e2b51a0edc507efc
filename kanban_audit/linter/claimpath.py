"""The claim-path decision: which writes can store the guarded state, along which
call paths, and where each offending path is reported.

For each write the solver gives the values it may store. Values that still
depend on a parameter are followed up through every visible call site; the
path ends where the value enters (a constant, request data, a parameter with no
visible caller). A path is fine if any function on it is a sanctioned writer,
or if every way into it passes through one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from kanban_audit.linter.callpaths import call_paths, hops
from kanban_audit.linter.solve import dispatch, unknown_table
from kanban_audit.linter.solve.atoms import Atom, Frame, Hop, Issue, narrow
from kanban_audit.linter.solve.context import BUDGET, TooComplex
from kanban_audit.linter.solve.evaluate import describe
from kanban_audit.linter.solve.program import Program
from kanban_audit.linter.solve.reads import Answers, Decided, Reads
from kanban_audit.linter.solve.sinks import sink_atoms
from kanban_audit.linter.values import (
    Attr,
    Call,
    Elem,
    Expr,
    Index,
    Narrowed,
    OnUnknownTable,
    Param,
    Persisted,
    Sink,
)

MAX_PATHS = 256
# A parameter's values, with what working them out read (solve/reads.py).
ParamCache = dict[tuple[str, Expr], tuple[list[Atom], Reads]]


@dataclass
class Analysis:
    """The offending paths, and what deciding them needed to see: the functions
    whose every caller matters, the names that did not resolve, and the classes
    whose every subclass matters."""

    issues: list[Issue] = field(default_factory=list)
    callers_needed: set[str] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)
    subclassed: set[str] = field(default_factory=set)


def analyse(program: Program) -> Analysis:
    """Find the offending paths, recording what the decision depended on."""
    index = program.index
    index.recording, index.unresolved, index.subclassed = True, set(), set()
    needed: set[str] = set()
    program.graph.consulted = needed
    try:
        issues = find_issues(program)
    finally:
        index.recording = False
        index.reads = None
        program.graph.consulted = None
    _keep_answers(program)
    return Analysis(issues, needed, index.unresolved, index.subclassed)


def find_issues(program: Program) -> list[Issue]:
    """Every offending path in the program, one Issue per report place and write. A
    write decided in the last round is not decided again when the program answers
    what it read as it did then (solve/reads.py)."""
    reuse, answers = program.reuse, Answers(program)
    before = reuse.answers
    if before and answers.facts() != before.facts():
        before = None
    cache: ParamCache = {
        key: entry for key, entry in reuse.params.items() if _same(answers, entry[1], before)
    }
    decided: dict[tuple[str, int], Decided] = {}
    issues: dict[tuple, Issue] = {}
    for qual, fn in program.functions.items():
        for sink in fn.sinks:
            last = reuse.decided.get((qual, id(sink)))
            if last and last.sink is sink and _same(answers, last.reads, before):
                program.ev.replay(last.reads)  # what it recorded, for the pre-filter
                found, reads = last.issues, last.reads
            else:
                found, reads = _decide(program, qual, sink, cache)
            decided[(qual, id(sink))] = Decided(sink, found, reads)
            for issue in found:
                key = (issue.code, issue.report_func, issue.report_site, issue.sink_func, sink.site)
                if key in issues:
                    merged = issues[key].atoms + tuple(
                        a for a in issue.atoms if a not in issues[key].atoms
                    )
                    issues[key] = replace(issues[key], atoms=merged)
                else:
                    issues[key] = issue
    reuse.decided, reuse.params, reuse.answers = decided, cache, answers
    return list(issues.values())


def _decide(
    program: Program, qual: str, sink: Sink, cache: ParamCache
) -> tuple[list[Issue], Reads]:
    """One write's issues, and what deciding it read."""
    program.ev.reset()
    reads = program.index.reads = Reads()
    try:
        return _sink_issues(program, qual, sink, cache), reads
    except (TooComplex, RecursionError):
        return [_too_complex(program, qual, sink)], reads
    finally:
        program.index.reads = None


def _same(answers: Answers, reads: Reads, before: Answers | None) -> bool:
    """Whether the program answers what a decision read as it did in the last round
    (asked with the recording for the pre-filter off: asking is not deciding)."""
    if before is None:
        return False
    index = answers.program.index
    index.recording = False
    try:
        return answers.same(reads, before)
    except (TooComplex, RecursionError):  # a fact too complex to work out: decide again
        return False
    finally:
        index.recording = True


def _keep_answers(program: Program) -> None:
    """Work out, while the program is this one, the answers to what this round's
    decisions read: the next round compares its own with them."""
    reuse = program.reuse
    if reuse.answers is None:
        return
    try:
        for entry in reuse.decided.values():
            reuse.answers.keep(entry.reads)
        for _, reads in reuse.params.values():
            reuse.answers.keep(reads)
        reuse.answers.facts()
    except (TooComplex, RecursionError):  # nothing is kept: the next round decides all
        reuse.answers = None


def _sink_issues(program: Program, qual: str, sink: Sink, cache: ParamCache) -> list[Issue]:
    ev = program.ev
    atoms, note = sink_atoms(ev, sink, None, qual)
    paths = call_paths(program, sink, qual, stores=bool(note))
    if paths:
        # The SQL text (or the keywords) come from the calls: read the write at each.
        atoms, note = [], ""
        for frame in paths:
            more, more_note = sink_atoms(ev, sink, frame, qual)
            # What the path makes the write store enters at its outermost call (a
            # parameter of that call's function is read further out, along the path).
            path = hops(frame)
            atoms += [a if a.chain else replace(a, chain=path) for a in more]
            note = note or more_note
    if not note:
        return []
    guarded = program.pack.tasks.guarded
    issues: list[Issue] = []
    for atom in _resolve_all(program, atoms, cache):
        code = _code(atom, guarded)
        if code is not None:
            issues += _place(program, code, atom, qual, sink, note)
    return issues


def _resolve_all(program: Program, atoms: list[Atom], cache: ParamCache) -> list[Atom]:
    resolved: list[Atom] = []
    for atom in atoms:
        if atom.kind != "param":
            resolved.append(atom)
            continue
        resolved += _resolve_open(program, atom, cache, set())
    return _bounded(resolved, program.pack.tasks.guarded)


def _bounded(atoms: list[Atom], guarded: str) -> list[Atom]:
    """The values that can still make a finding, at most MAX_PATHS of them.

    A constant other than the guarded state (or an unknown that excludes it)
    can never become one, so it is dropped before counting: a writer called
    with hundreds of safe constants keeps the one call that passes the guarded
    state. Past the limit the rest is not dropped in silence: it is an unknown
    that says the budget ran out (KA002 at the write).
    """
    kept = [atom for atom in atoms if _matters(atom, guarded)]
    if len(kept) <= MAX_PATHS:
        return kept
    return [*kept[: MAX_PATHS - 1], Atom("unknown", f"{BUDGET}: more than {MAX_PATHS} paths")]


def _resolve_open(
    program: Program, atom: Atom, cache: ParamCache, active: set[tuple[str, Expr]]
) -> list[Atom]:
    """What a parameter atom is at the call sites, its own guards and hops applied."""
    found = _resolve_param(program, atom.func, atom.value, atom.expr, cache, active)
    return [
        replace(narrowed, chain=narrowed.chain + atom.chain)
        for value in found
        for narrowed in narrow(value, atom.allow, atom.deny)
    ]


def _resolve_param(
    program: Program,
    func: str,
    name: str,
    expr: Expr | None,
    cache: ParamCache,
    active: set[tuple[str, Expr]],
) -> list[Atom]:
    """Every value a parameter (or what is read from it: `expr`) receives, each with
    the hops from where it entered. Each call site is read on its own."""
    read = expr or Param(func, name)
    key = (func, read)
    index = program.index
    if key in cache:
        found, reads = cache[key]
        if index.reads is not None:
            index.reads.merge(reads)
        return found
    if key in active:
        return []  # recursion: the values come in through the other call sites
    outer, index.reads = index.reads, Reads()
    try:
        found = _param_values(program, key, name, cache, active | {key})
        cache[key] = (found, index.reads)
    finally:
        inner, index.reads = index.reads, outer
        if outer is not None:
            outer.merge(inner)
    return found


def _param_values(
    program: Program, key: tuple[str, Expr], name: str, cache: ParamCache, active: set
) -> list[Atom]:
    """`_resolve_param` worked out: `key` is the function and what is read."""
    func, read = key
    callers = program.graph.callers_of(func)
    if not callers:
        return [Atom("unknown", _unseen(func, name, read))]
    guarded = program.pack.tasks.guarded
    result: list[Atom] = []
    for caller, call, offset in callers:
        frame = Frame(func, call, caller, offset, None, on_path=False)
        hop = dispatch.hop(caller, func, call)
        for atom in program.ev.values(read, frame):
            atom = replace(atom, chain=atom.chain + (hop,))
            if atom.kind == "param":
                result += _resolve_open(program, atom, cache, active)
            elif _matters(atom, guarded):
                result.append(atom)
        if len(result) > MAX_PATHS:
            break
    return _bounded(result, guarded)


def _unseen(func: str, name: str, read: Expr) -> str:
    """Why a value from a parameter of a function nothing visible calls is unknown."""
    if isinstance(read, OnUnknownTable):  # what a caller passes to such a write
        return f"{unknown_table.reason(read.statement)}; {_unseen(func, name, read.expr)}"
    if isinstance(read, Param):
        return f"parameter `{name}` of `{func.rsplit('.', 1)[-1]}()` has no visible caller"
    return _read_from(read)


def _read_from(read: Expr) -> str:
    """`item of parameter `body``: what is read from the parameter (text methods keep
    what is unknown about it)."""
    if isinstance(read, Index):
        return f"item of {_read_from(read.base)}"
    if isinstance(read, Elem):
        return f"element of {_read_from(read.seq)}"
    if isinstance(read, Call) and isinstance(read.func, Attr):
        return _read_from(read.func.base)
    if isinstance(read, (Narrowed, Persisted, OnUnknownTable)):
        return _read_from(read.expr)
    return describe(read)


def _matters(atom: Atom, guarded: str) -> bool:
    """Whether a value can still make a finding (a parameter is still to be read)."""
    return atom.kind == "param" or _code(atom, guarded) is not None


def _code(atom: Atom, guarded: str) -> str | None:
    if atom.kind == "const" and atom.value == guarded:
        return "KA001"
    if atom.kind == "unknown" and guarded not in atom.deny:
        return "KA002"
    return None


def _place(
    program: Program, code: str, atom: Atom, qual: str, sink: Sink, note: str
) -> list[Issue]:
    """Where the path is reported, or nothing if the claim path covers it."""
    on_path = [hop.caller for hop in atom.chain] + [qual]
    if any(program.graph.sanctioned(func) for func in on_path):
        return []
    graph = program.graph
    if atom.chain:
        entry = atom.chain[0].caller
        if not graph.is_exposed(entry) or not _readers_exposed(program, atom.chain, qual):
            return []
        site = atom.chain[0].site
        return [Issue(code, (atom,), entry, site, atom.chain, qual, sink, note)]
    callers = [site for site in graph.callers_of(qual) if site[0] != qual]  # not recursion
    if not callers or atom.kind == "unknown" or atom.bounded:
        # Data read here enters here: the calls of the writer do not pass it.
        if not graph.is_exposed(qual):
            return []
        return [Issue(code, (atom,), qual, sink.site, (), qual, sink, note)]
    hops = [(caller, dispatch.hop(caller, qual, call)) for caller, call, _ in callers]
    return [
        Issue(code, (atom,), caller, hop.site, (hop,), qual, sink, note)
        for caller, hop in hops
        if graph.is_exposed(caller)
    ]


def _readers_exposed(program: Program, chain: tuple[Hop, ...], qual: str) -> bool:
    """Whether every function that reads a value back from an attribute on the path
    (the next step's, or the writer) runs outside the claim path: a stored value is
    not a call, so storing it does not make its reader reachable."""
    steps = [hop.caller for hop in chain[1:]] + [qual]
    return all(
        program.graph.is_exposed(reader)
        for hop, reader in zip(chain, steps, strict=True)
        if hop.stored
    )


def _too_complex(program: Program, qual: str, sink: Sink) -> Issue:
    """A write whose values cannot be followed within the budget: reported, not dropped."""
    atom = Atom("unknown", f"{BUDGET}: too many steps to follow")
    tasks = program.pack.tasks
    note = f"{tasks.shown}.{tasks.status}, if it writes it"
    return Issue("KA002", (atom,), qual, sink.site, (), qual, sink, note)
