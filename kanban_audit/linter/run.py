"""A lint run, one way through: discover -> pre-filter -> summaries -> solve ->
claim path -> findings -> suppressions -> selection."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kanban_audit.config import Config
from kanban_audit.linter.cache import SummaryCache, cache_key, seed_keys
from kanban_audit.linter.claimpath import Analysis, analyse
from kanban_audit.linter.discover import SourceFile, discover, display_path
from kanban_audit.linter.findings import FileError, Finding, LintResult, build_findings
from kanban_audit.linter.modules import ModuleTable
from kanban_audit.linter.parse import ParseJob, decode, summarize_all, with_deep_stack, worker_count
from kanban_audit.linter.prefilter import Prefilter
from kanban_audit.linter.report.ordering import finding_key
from kanban_audit.linter.selection import Selection
from kanban_audit.linter.solve.program import Program
from kanban_audit.linter.sqlfiles import SqlFiles, read_sql_files
from kanban_audit.linter.suppress import MARKER, apply_suppressions
from kanban_audit.linter.values import ModuleSummary
from kanban_audit.rulepack import RulePack

MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass
class LintOptions:
    paths: list[Path]
    pack: RulePack
    config: Config
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    jobs: int = 0
    cache_dir: Path | None = None
    # Report only findings whose trace touches one of these files.
    only: list[Path] | None = None
    progress: Callable[[int, int], None] | None = None
    cwd: Path = field(default_factory=Path.cwd)
    # Off: parse every file (slow; proves the pre-filter drops nothing that matters).
    prefilter: bool = True
    respect_gitignore: bool = True


def lint(options: LintOptions) -> LintResult:
    config = options.config
    selection = Selection.build(config, options.select, options.ignore, options.cwd)
    found = discover(
        options.paths,
        config.root,
        options.cwd,
        config.include,
        config.exclude + config.extend_exclude,
        options.respect_gitignore,
    )
    files = found.files
    result = LintResult(errors=found.errors, files_seen=len(files), warnings=found.warnings)
    if not files and not found.errors:
        where = ", ".join(display_path(p.absolute(), options.cwd) for p in options.paths)
        result.warnings.append(f"no Python files found in {where}")
    contents: dict[str, bytes] = {}
    for source in files:
        data = _read(source, result.errors)
        if data is not None:
            contents[source.display] = data
    by_display = {f.display: f for f in files if f.display in contents}
    sql_texts = read_sql_files(found.sql_files)
    program, analysis = _program(options, by_display, contents, sql_texts, result)
    findings = build_findings(program, analysis.issues, options.pack)
    findings = apply_suppressions(findings, _marked_texts(contents))
    findings = [f for f in findings if selection.wants(f.code, f.path)]
    if options.only is not None:
        wanted = {p.absolute() for p in options.only}
        findings = [f for f in findings if _touches(f, wanted, options.cwd)]
        result.errors = [e for e in result.errors if _abs(e.path, options.cwd) in wanted]
    result.findings = sorted(findings, key=finding_key)
    return result


def _abs(path: str, cwd: Path) -> Path:
    return (cwd / path).absolute() if not os.path.isabs(path) else Path(path)


def _touches(finding: Finding, wanted: set[Path], cwd: Path) -> bool:
    places = [finding.path] + [step.path for step in finding.trace]
    return any(_abs(place, cwd) in wanted for place in places)


def _read(source: SourceFile, errors: list[FileError]) -> bytes | None:
    try:
        size = source.path.stat().st_size
        if size > MAX_FILE_BYTES:
            errors.append(
                FileError(source.display, f"file too large to analyse ({size // 1048576} MiB)")
            )
            return None
        return source.path.read_bytes()
    except PermissionError:
        errors.append(FileError(source.display, "permission denied"))
    except OSError as exc:
        errors.append(FileError(source.display, exc.strerror or str(exc)))
    return None


def _marked_texts(contents: dict[str, bytes]) -> dict[str, str]:
    """The text of every file that may hold a suppression comment."""
    texts: dict[str, str] = {}
    for display, data in contents.items():
        if MARKER in data:
            try:
                texts[display] = decode(data)
            except (SyntaxError, UnicodeDecodeError, LookupError):
                continue
    return texts


def _program(
    options: LintOptions,
    files: dict[str, SourceFile],
    contents: dict[str, bytes],
    sql_texts: dict[str, str],
    result: LintResult,
) -> tuple[Program, Analysis]:
    """The program made of the files that can matter, grown until the analysis
    asks for nothing more, and the analysis of it."""
    cache = SummaryCache(options.cache_dir) if options.cache_dir else None
    try:
        return _grow(options, files, contents, sql_texts, result, cache)
    finally:
        if cache:
            cache.close()
            if cache.warning:
                result.warnings.append(cache.warning)


def _grow(
    options: LintOptions,
    files: dict[str, SourceFile],
    contents: dict[str, bytes],
    sql_texts: dict[str, str],
    result: LintResult,
    cache: SummaryCache | None,
) -> tuple[Program, Analysis]:
    pack = options.pack
    table = ModuleTable(files.values())
    aliases = {alias: table.displays(alias) for alias in table.aliases}
    prefilter = Prefilter(contents, table.files, pack, aliases=aliases, sql_texts=sql_texts)
    todo = set(_seeds(prefilter, cache)) if options.prefilter else set(contents)
    seen: set[str] = set()
    sql_files = SqlFiles(sql_texts, table.files)
    program = Program([], pack, table.unique_aliases(), sql_files)
    while True:
        batch = sorted(todo - seen)
        seen.update(batch)
        loaded = _summaries(batch, files, contents, pack, cache, options, result)
        summaries = [summary for _, summary in loaded if summary is not None]
        # Both walk the code's own nesting (a chain of 2,000 subclasses): the deep stack.
        with_deep_stack(program.add, with_deep_stack(table.localise_all, summaries, contents))
        analysis = with_deep_stack(analyse, program)
        if not options.prefilter:
            return program, analysis
        todo = prefilter.more(program, analysis, seen)
        if not todo:
            return program, analysis


def _seeds(prefilter: Prefilter, cache: SummaryCache | None) -> list[str]:
    """The pre-filter's seeds, its verdicts on unchanged files taken from the cache."""
    if cache is None:
        return prefilter.seeds()
    tasks = prefilter.pack.tasks
    keys = seed_keys(prefilter.contents, tasks.table, tasks.status)
    stored = cache.get_flags(list(keys.values()))
    seeds = prefilter.seeds({d: stored[key] for d, key in keys.items() if key in stored})
    cache.put_flags({key: prefilter.verdicts[d] for d, key in keys.items() if key not in stored})
    return seeds


def _summaries(
    batch: list[str],
    files: dict[str, SourceFile],
    contents: dict[str, bytes],
    pack: RulePack,
    cache: SummaryCache | None,
    options: LintOptions,
    result: LintResult,
) -> list[tuple[str, ModuleSummary | None]]:
    """Summaries for a batch: from the cache, else parsed (in parallel when it pays)."""
    methods = tuple(pack.lint.sql_methods)
    fields = (pack.tasks.status,)
    jobs: list[tuple[ParseJob, str]] = []
    out: list[tuple[str, ModuleSummary | None]] = []
    for display in batch:
        source = files[display]
        key = cache_key(contents[display], source.module, display, methods + fields)
        cached = cache.get(key, source.module, display) if cache else None
        if cached is not None:
            result.files_cached += 1
            out.append((display, cached))
        else:
            job = ParseJob(
                display, source.module, contents[display], methods, options.cache_dir, fields
            )
            jobs.append((job, key))
    parsed = summarize_all([job for job, _ in jobs], worker_count(options.jobs), options.progress)
    fresh: list[tuple[str, ModuleSummary]] = []
    chunks = []
    for (job, key), outcome in zip(jobs, parsed, strict=True):
        if outcome.summary is None:
            error = outcome.error
            if not isinstance(error, FileError):
                error = FileError(job.display, error or "cannot analyse")
            result.errors.append(error)
            out.append((job.display, None))
            continue
        result.files_parsed += 1
        fresh.append((key, outcome.summary))
        chunks += outcome.fresh
        out.append((job.display, outcome.summary))
    if cache:  # summaries nest as deeply as the code they were made from
        with_deep_stack(cache.put_all, fresh, chunks)
    return out
