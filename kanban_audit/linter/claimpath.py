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
from kanban_audit.linter.solve.atoms import Atom, Frame, Hop, Issue, narrow
from kanban_audit.linter.solve.context import TooComplex
from kanban_audit.linter.solve.program import Program
from kanban_audit.linter.solve.sinks import sink_atoms
from kanban_audit.linter.values import Param, Sink

MAX_PATHS = 256
ParamCache = dict[tuple[str, str], list[Atom]]


@dataclass
class Analysis:
    """The offending paths, and what deciding them needed to see: the functions
    whose every caller matters, and the names that did not resolve."""

    issues: list[Issue] = field(default_factory=list)
    callers_needed: set[str] = field(default_factory=set)
    unresolved: set[str] = field(default_factory=set)


def analyse(program: Program) -> Analysis:
    """Find the offending paths, recording what the decision depended on."""
    index = program.index
    index.recording, index.unresolved = True, set()
    needed: set[str] = set()
    program.graph.consulted = needed
    try:
        issues = find_issues(program)
    finally:
        index.recording = False
        program.graph.consulted = None
    return Analysis(issues, needed, index.unresolved)


def find_issues(program: Program) -> list[Issue]:
    """Every offending path in the program, one Issue per report place and write."""
    cache: ParamCache = {}
    issues: dict[tuple, Issue] = {}
    for qual, fn in program.functions.items():
        for sink in fn.sinks:
            program.ev.reset()
            try:
                found = _sink_issues(program, qual, sink, cache)
            except (TooComplex, RecursionError):
                found = [_too_complex(program, qual, sink)]
            for issue in found:
                key = (issue.code, issue.report_func, issue.report_site, issue.sink_func, sink.site)
                if key in issues:
                    merged = issues[key].atoms + tuple(
                        a for a in issue.atoms if a not in issues[key].atoms
                    )
                    issues[key] = replace(issues[key], atoms=merged)
                else:
                    issues[key] = issue
    return list(issues.values())


def _sink_issues(program: Program, qual: str, sink: Sink, cache: ParamCache) -> list[Issue]:
    ev = program.ev
    atoms, note = sink_atoms(ev, sink, None)
    paths = call_paths(program, sink, qual, stores=bool(note))
    if paths:
        # The SQL text (or the keywords) come from the calls: read the write at each.
        atoms, note = [], ""
        for frame in paths:
            more, more_note = sink_atoms(ev, sink, frame)
            # What the path makes the write store enters at its outermost call.
            path = hops(frame)
            atoms += [a if a.chain or a.kind == "param" else replace(a, chain=path) for a in more]
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
        for found in _resolve_param(program, atom.func, atom.value, cache, set()):
            for narrowed in narrow(found, atom.allow, atom.deny):
                resolved.append(replace(narrowed, chain=narrowed.chain + atom.chain))
    return resolved[:MAX_PATHS]


def _resolve_param(
    program: Program,
    func: str,
    name: str,
    cache: ParamCache,
    active: set[tuple[str, str]],
) -> list[Atom]:
    """Every value a parameter receives, each with the hops from where it entered."""
    key = (func, name)
    if key in cache:
        return cache[key]
    if key in active:
        return []  # recursion: the values come in through the other call sites
    callers = program.graph.callers_of(func)
    if not callers:
        short = func.rsplit(".", 1)[-1]
        result = [Atom("unknown", f"parameter `{name}` of `{short}()` has no visible caller")]
        cache[key] = result
        return result
    active = active | {key}
    result: list[Atom] = []
    for caller, call, offset in callers:
        frame = Frame(func, call, caller, offset, None, on_path=True)
        for atom in program.ev.values(Param(func, name), frame):
            if atom.kind != "param":
                result.append(atom)
                continue
            for found in _resolve_param(program, atom.func, atom.value, cache, active):
                for narrowed in narrow(found, atom.allow, atom.deny):
                    result.append(replace(narrowed, chain=narrowed.chain + atom.chain))
        if len(result) > MAX_PATHS:
            break
    cache[key] = result[:MAX_PATHS]
    return cache[key]


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
    if any(program.pack.is_sanctioned(func) for func in on_path):
        return []
    graph = program.graph
    if atom.chain:
        entry = atom.chain[0].caller
        if not graph.is_exposed(entry):
            return []
        site = atom.chain[0].call.site
        return [Issue(code, (atom,), entry, site, atom.chain, qual, sink, note)]
    callers = graph.callers_of(qual)
    if not callers:
        if not graph.is_exposed(qual):
            return []
        return [Issue(code, (atom,), qual, sink.site, (), qual, sink, note)]
    return [
        Issue(code, (atom,), caller, call.site, (Hop(caller, qual, call),), qual, sink, note)
        for caller, call, _ in callers
        if graph.is_exposed(caller)
    ]


def _too_complex(program: Program, qual: str, sink: Sink) -> Issue:
    """A write whose values cannot be followed within the budget: reported, not dropped."""
    atom = Atom("unknown", "too complex to follow")
    tasks = program.pack.tasks
    note = f"{tasks.table}.{tasks.status}, if it writes it"
    return Issue("KA002", (atom,), qual, sink.site, (), qual, sink, note)
