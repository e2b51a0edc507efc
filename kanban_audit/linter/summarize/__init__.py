"""The per-file pass: source -> a ModuleSummary, one top-level chunk at a time.

context      what the whole module tells each statement (from CPython's ast)
chunks       top-level statements as units of work and of caching
module       the module-wide state a chunk's interpretation reads and fills
namespace    the module-level names between chunks, each chunk given its own
positions    where calls and statements are (from CPython's ast)
interpreter  the abstract interpreter over function bodies (on LibCST trees)
guards       what a test proves on each branch
joins        values where branches meet, joined once (not once per path)
correlated   later tests of the same condition see what an earlier one chose
patterns     what each `case` of a `match` proves about its subject
loops        lists a loop appends to, one item per element; break and continue
typehints    the class a parameter is declared as, a model's fields
dumps        a model dumped after guards on its fields keeps them
writes       which calls write to the database
names        dotted names, guard subjects, import and assignment targets

Nothing here looks at other files; the solver joins the summaries. LibCST
is imported only when a chunk has to be parsed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence

from kanban_audit.linter.depth import nesting_problem
from kanban_audit.linter.summarize.chunks import Chunk, chunk_key, split, worth_storing
from kanban_audit.linter.summarize.context import ModuleContext, module_context
from kanban_audit.linter.summarize.namespace import Namespace
from kanban_audit.linter.summarize.writes import Spellings
from kanban_audit.linter.values import (
    ChunkSummary,
    ClassSummary,
    Expr,
    FunctionSummary,
    ModuleSummary,
    Site,
    one_of,
)

Lookup = Callable[[str, int], ChunkSummary | None]  # (key, first line) -> the chunk there
Fresh = tuple[str, ChunkSummary, int]  # key, summary, first line


class TooDeep(ValueError):
    """A statement nested too deeply for the parser to be safe on."""


def summarize(
    source: bytes,
    path: str,
    module: str,
    sql_methods: Sequence[str],
    lookup: Lookup | None = None,
    salt: str = "",
    fields: Sequence[str] = (),
) -> tuple[ModuleSummary, list[Fresh]]:
    """Summarise a file, reusing the chunks `lookup` knows (by key); returns the
    summary and the chunks summarised anew, with their keys (none without `lookup`:
    there is nowhere to keep them).

    Raises SyntaxError (CPython's, with its position), TooDeep, or LibCST's
    errors; the caller reports them.
    """
    tree = ast.parse(source)
    context = module_context(tree, module, path.endswith("__init__.py"))
    raw = source.splitlines(keepends=True)
    lines = [line.decode("utf-8", "replace").rstrip("\r\n") for line in raw]
    spellings = Spellings(frozenset(sql_methods), frozenset(fields))
    salt = f"{salt}\x1f{','.join(sorted(spellings.sql_methods))}\x1f{','.join(sorted(fields))}"
    env = Namespace()
    digests: dict[int, str] = {}
    parts: list[ChunkSummary] = []
    fresh: list[Fresh] = []
    for chunk in split(tree, raw):
        # With no cache to read or fill, no chunk needs a key.
        key = chunk_key(chunk, context, env.values, digests, salt) if lookup else ""
        part = lookup(key, chunk.start) if lookup else None
        if part is None:
            part = _summarize_chunk(chunk, context, env.seen_by(chunk.names), raw, lines, spellings)
            if lookup and worth_storing(part, chunk):
                fresh.append((key, part, chunk.start))
        parts.append(part)
        env.apply(part.cleared, part.env)
    return _assemble(context, path, parts), fresh


def _summarize_chunk(
    chunk: Chunk,
    context: ModuleContext,
    env: dict[str, Expr],
    raw: list[bytes],
    lines: list[str],
    spellings: Spellings,
) -> ChunkSummary:
    import libcst as cst

    from kanban_audit.linter.summarize.interpreter import run_chunk
    from kanban_audit.linter.summarize.module import ModuleAnalyzer
    from kanban_audit.linter.summarize.positions import find_positions
    from kanban_audit.linter.summarize.saves import may_name_fields

    problem = nesting_problem(chunk.text, chunk.start)
    if problem:
        raise TooDeep(problem)
    tree = cst.parse_module(chunk.text)
    positions = find_positions(tree, chunk.statements, raw, chunk.start - 1)
    analyzer = ModuleAnalyzer(context, positions, lines, spellings, may_name_fields(chunk.text))
    after = run_chunk(analyzer, tree, dict(env))
    part = analyzer.chunk
    part.env = {k: v for k, v in after.items() if env.get(k) is not v}
    part.cleared = tuple(k for k in env if k not in after)
    return part


def _assemble(context: ModuleContext, path: str, parts: list[ChunkSummary]) -> ModuleSummary:
    """A module's summary from its chunks' contributions, in order."""
    module_fn = FunctionSummary(f"{context.module}.<module>", (), {}, 0, Site(1, 0, 1))
    functions: dict[str, FunctionSummary] = {module_fn.qualname: module_fn}
    classes: dict[str, ClassSummary] = {}
    assigned: dict[str, list[Expr]] = {}
    for part in parts:
        functions.update(part.functions)
        classes.update(part.classes)
        module_fn.calls += part.calls
        module_fn.sinks += part.sinks
        module_fn.returns += part.returns
        for qual, value in part.assigned:
            assigned.setdefault(qual, []).append(value)
    # Every value a name was given, joined once: a name reassigned a thousand times
    # is not joined a thousand times over.
    globals_ = {q: one_of(vs) if len(vs) > 1 else vs[0] for q, vs in assigned.items()}
    return ModuleSummary(context.module, path, globals_, dict(context.imports), functions, classes)
