"""A lint run: files -> pre-filter -> summaries (cached, parallel) -> solver -> findings."""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kanban_audit.config import Config
from kanban_audit.lint.cache import SummaryCache, cache_key
from kanban_audit.lint.depth import nesting_problem
from kanban_audit.lint.files import SourceFile, discover, matches
from kanban_audit.lint.findings import FileError, Finding, LintResult, TraceStep, fingerprint
from kanban_audit.lint.paths import find_issues, may_write_status
from kanban_audit.lint.solver import Issue, Program
from kanban_audit.lint.suppress import MARKER, Suppression, parse_suppressions
from kanban_audit.lint.values import ModuleSummary
from kanban_audit.rulepack import RulePack

MAX_FILE_BYTES = 8 * 1024 * 1024
PARALLEL_THRESHOLD = 8
TABLE_WRITE_METHODS = ("update", "insert", "upsert", "insert_all", "upsert_all")


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


def lint(options: LintOptions) -> LintResult:
    config = options.config
    files, errors = discover(
        options.paths,
        config.root,
        options.cwd,
        config.include,
        config.exclude + config.extend_exclude,
    )
    result = LintResult(errors=errors, files_seen=len(files))
    contents: dict[str, bytes] = {}
    for source in files:
        data = _read(source, result.errors)
        if data is not None:
            contents[source.display] = data
    by_display = {f.display: f for f in files if f.display in contents}
    program = _program(options, by_display, contents, result)
    issues = _with_deep_stack(find_issues, program)
    findings = [_finding(program, issue, options.pack) for issue in issues]
    findings = _number(findings)
    findings = _suppress(findings, contents, result)
    findings = [f for f in findings if _selected(f, options, config)]
    if options.only is not None:
        wanted = {p.absolute() for p in options.only}
        findings = [f for f in findings if _touches(f, wanted, options.cwd)]
        result.errors = [e for e in result.errors if _abs(e.path, options.cwd) in wanted]
    result.findings = sorted(findings, key=lambda f: (f.path, f.line, f.col, f.code))
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


# -- the per-file pass ---------------------------------------------------------


def _program(
    options: LintOptions,
    files: dict[str, SourceFile],
    contents: dict[str, bytes],
    result: LintResult,
) -> Program:
    """The program made of the files that can matter, grown to a fixpoint."""
    pack = options.pack
    cache = SummaryCache(options.cache_dir) if options.cache_dir else None
    modules = {}
    for display, source in files.items():
        modules.setdefault(source.module, display)
    todo = [d for d, data in contents.items() if _may_write(data, pack)]
    done: dict[str, ModuleSummary] = {}
    failed: set[str] = set()
    searched: set[str] = set()  # writer names already looked for in every file
    program = Program([], pack)
    while todo:
        batch = sorted(set(todo) - set(done) - failed)
        if not batch:
            break
        for display, summary in _summarize(batch, files, contents, pack, cache, options, result):
            if summary is None:
                failed.add(display)
            else:
                done[display] = summary
        program, todo = _more_files(done, contents, modules, pack, searched)
    return program


def _may_write(data: bytes, pack: RulePack) -> bool:
    """The pre-filter: only a file naming the table, the column and a write method can
    hold a write. Plain substring tests first; the word-boundary regexes confirm."""
    table, column = pack.tasks.table.encode(), pack.tasks.status.encode()
    if table not in data or column not in data:
        return False
    methods = (*pack.lint.sql_methods, *TABLE_WRITE_METHODS)
    if not any(m.encode() in data for m in methods):
        return False
    return bool(
        _word_regex([pack.tasks.table]).search(data)
        and _word_regex([pack.tasks.status]).search(data)
        and _word_regex(list(methods)).search(data)
    )


def _more_files(
    done: dict[str, ModuleSummary],
    contents: dict[str, bytes],
    modules: dict[str, str],
    pack: RulePack,
    searched: set[str],
) -> tuple[Program, list[str]]:
    """The program parsed so far, and the files that may matter given it.

    The writers are the functions with a write that can reach the status
    column (or whose SQL is not yet known); with every function that calls
    one of them (through resolved calls), they make the set whose names are
    searched for in the other files. Their modules' imports are parsed too,
    for the constants and helpers they use.
    """
    program = Program(done.values(), pack)
    writers = {
        qual
        for qual, fn in program.functions.items()
        if any(may_write_status(program, qual, sink) for sink in fn.sinks)
    }
    work = list(writers)
    while work:
        for caller, _, _ in program.callers.get(work.pop(), []):
            if caller not in writers:
                writers.add(caller)
                work.append(caller)
    wanted: set[str] = set()
    for summary in {id(program.owner[q]): program.owner[q] for q in writers}.values():
        for target in summary.imports.values():
            parts = target.split(".")
            for n in range(len(parts), 0, -1):
                display = modules.get(".".join(parts[:n]))
                if display:
                    wanted.add(display)
                    break
    # A module-level function is reached from another file through its module
    # (import board.db / from board import db / from board.db import f): that
    # file names the function and a part of the module path. Methods are
    # reached through instances, so their name alone counts.
    needs: dict[str, set[str]] = {}
    for qual in writers:
        name = qual.rsplit(".", 1)[1]
        if name == "<module>" or name in searched:
            continue
        fn = program.functions[qual]
        module = program.owner[qual].module
        parts = set() if fn.bound else set(module.split("."))
        if name in needs and (not needs[name] or not parts):
            needs[name] = set()
        else:
            needs[name] = needs.get(name, set()) | parts
    searched.update(needs)
    for name, parts in needs.items():
        needle = name.encode()
        via = _word_regex(sorted(parts)) if parts else None
        wanted |= {
            d
            for d, data in contents.items()
            if d not in done
            and needle in data
            and _word_regex([name]).search(data)
            and (via is None or via.search(data))
        }
    return program, sorted(wanted - set(done))


@functools.lru_cache(maxsize=64)
def _word_regex_cached(words: tuple[str, ...]) -> re.Pattern[bytes]:
    alternatives = b"|".join(re.escape(w.encode("utf-8")) for w in words)
    return re.compile(rb"(?<![\w])(?:" + alternatives + rb")(?![\w])")


def _word_regex(words: list[str]) -> re.Pattern[bytes]:
    return _word_regex_cached(tuple(words))


def _summarize(
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
    jobs: list[tuple[str, str, bytes, tuple[str, ...], str]] = []
    out: list[tuple[str, ModuleSummary | None]] = []
    for display in batch:
        source = files[display]
        key = cache_key(contents[display], source.module, display, methods)
        cached = cache.get(key) if cache else None
        if cached is not None:
            result.files_cached += 1
            out.append((display, cached))
        else:
            jobs.append((display, source.module, contents[display], methods, key))
    workers = options.jobs or os.cpu_count() or 1
    if workers > 1 and len(jobs) >= PARALLEL_THRESHOLD:
        # Imported here: most runs parse too few files to need a pool.
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        with concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_set_up_worker
        ) as pool:
            parsed = pool.map(_summarize_one, jobs, chunksize=4)
            parsed = list(_with_progress(parsed, len(jobs), options.progress))
    else:
        parsed = list(_with_progress(map(_summarize_one, jobs), len(jobs), options.progress))
    for (display, _, _, _, key), (summary, error) in zip(jobs, parsed, strict=True):
        if summary is None:
            result.errors.append(FileError(display, error))
            out.append((display, None))
            continue
        result.files_parsed += 1
        if cache:
            cache.put(key, summary)
        out.append((display, summary))
    return out


def _with_progress(items, total, progress):
    for n, item in enumerate(items, 1):
        if progress:
            progress(n, total)
        yield item


def _set_up_worker() -> None:
    """Import the parser once per worker process, not once per file."""
    import kanban_audit.lint.summary  # noqa: F401


def _summarize_one(job: tuple[str, str, bytes, tuple[str, ...], str]):
    """Runs in a worker: never raises, returns (summary, None) or (None, message)."""
    from kanban_audit.lint.summary import summarize

    display, module, data, methods, _ = job
    try:
        text = _decode(data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return None, f"cannot decode: {exc.__class__.__name__}: {_first_line(exc)}"
    too_deep = nesting_problem(text)
    if too_deep:
        return None, f"too deeply nested to analyse ({too_deep})"
    try:
        return _with_deep_stack(summarize, text.encode("utf-8"), display, module, methods), None
    except RecursionError:
        return None, "too deeply nested to analyse"
    except Exception as exc:  # LibCST raises several types for bad syntax
        name = type(exc).__name__
        if name == "ParserSyntaxError":
            return None, f"syntax error: {_first_line(exc)}"
        return None, f"cannot analyse: {name}: {_first_line(exc)}"


DEEP_STACK_BYTES = 512 * 1024 * 1024
DEEP_RECURSION = 30_000


def _with_deep_stack(function, *args):
    """Run in a thread with a large C stack and a raised recursion limit.

    Long but legal constructs (thousands of adjacent strings in a generated
    table) nest LibCST's trees deeply; the depth gate keeps out what even this
    cannot hold.
    """
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args)
        except BaseException as exc:  # handed back to the calling thread
            outcome["error"] = exc

    previous_stack = threading.stack_size(DEEP_STACK_BYTES)
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous_limit, DEEP_RECURSION))
    try:
        worker = threading.Thread(target=target, name="kanban-audit-parse")
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous_stack)
        sys.setrecursionlimit(previous_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _decode(data: bytes) -> str:
    import io

    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- findings ------------------------------------------------------------------


def _short(qual: str) -> str:
    return qual.rsplit(".", 1)[-1]


def _values_text(issue: Issue) -> str:
    consts = sorted({a.value for a in issue.atoms if a.kind == "const"})
    reasons = sorted({a.value for a in issue.atoms if a.kind == "unknown"})
    if issue.code == "KA001":
        return ", ".join(repr(c) for c in consts)
    return "; ".join(reasons)


def _finding(program: Program, issue: Issue, pack: RulePack) -> Finding:
    tasks = pack.tasks
    column = f"{tasks.table}.{tasks.status}"
    path = program.site_path(issue.report_func)
    via = f" via {_short(issue.chain[0].callee)}()" if issue.chain else ""
    if issue.code == "KA001":
        message = (
            f"{tasks.status} {pack.tasks.guarded!r} can reach {column}{via} outside the claim path"
        )
    else:
        message = (
            f"unchecked value ({_values_text(issue)}) can reach {column}{via} "
            f"without a guard excluding {tasks.guarded!r}"
        )
    steps: list[TraceStep] = []
    for hop in issue.chain:
        hop_path = program.site_path(hop.caller)
        steps.append(
            TraceStep(
                hop_path,
                hop.call.site.line,
                hop.call.site.col + 1,
                f"{_short(hop.caller)}() calls {_short(hop.callee)}()",
            )
        )
    sink = issue.sink
    steps.append(
        TraceStep(
            program.site_path(issue.sink_func),
            sink.site.line,
            sink.site.col + 1,
            f"{_short(issue.sink_func)}() writes {issue.column_note}",
        )
    )
    site = issue.report_site
    sink_id = f"{issue.sink_func}:{' '.join(sink.site.text.split())}"
    return Finding(
        code=issue.code,
        path=path,
        line=site.line,
        col=site.col + 1,
        message=message,
        trace=tuple(steps),
        symbol=issue.report_func,
        source_line=site.text,
        fingerprint=sink_id,  # replaced once duplicates are numbered
        stmt_line=site.stmt_line,
        end_line=site.end_line,
    )


def _number(findings: list[Finding]) -> list[Finding]:
    """Final fingerprints: identical findings are told apart by their rank."""
    findings = sorted(findings, key=lambda f: (f.path, f.line, f.col, f.code, f.fingerprint))
    seen: dict[tuple, int] = {}
    numbered = []
    for f in findings:
        base = (f.code, f.path, f.symbol, " ".join(f.source_line.split()), f.fingerprint)
        nth = seen.get(base, 0)
        seen[base] = nth + 1
        numbered.append(
            replace(
                f,
                fingerprint=fingerprint(
                    f.code, f.path, f.symbol, f.source_line, f.fingerprint, nth
                ),
            )
        )
    return numbered


def _suppress(
    findings: list[Finding], contents: dict[str, bytes], result: LintResult
) -> list[Finding]:
    """Drop suppressed findings; report suppressions that suppressed nothing (KA100)."""
    table: dict[str, list[Suppression]] = {}
    for display, data in contents.items():
        if MARKER in data:
            try:
                table[display] = parse_suppressions(_decode(data))
            except (SyntaxError, UnicodeDecodeError, LookupError):
                continue
    kept: list[Finding] = []
    for finding in findings:
        lines = {finding.line, finding.stmt_line or finding.line, finding.end_line or finding.line}
        match = next(
            (s for s in table.get(finding.path, []) if s.line in lines and s.covers(finding.code)),
            None,
        )
        if match is None:
            kept.append(finding)
        else:
            match.used.add(finding.code)
    for display, suppressions in table.items():
        for s in suppressions:
            unused = (
                [c for c in s.codes if c not in s.used] if s.codes else ([] if s.used else ["*"])
            )
            if not unused:
                continue
            what = ", ".join(unused) if unused != ["*"] else "any finding"
            kept.append(
                Finding(
                    code="KA100",
                    path=display,
                    line=s.line,
                    col=s.col + 1,
                    message=f"unused suppression: no {what} reported here",
                    symbol="",
                    source_line=s.text,
                    fingerprint=fingerprint("KA100", display, "", s.text, what, 0),
                )
            )
    return kept


def _code_matches(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code.startswith(p.upper()) for p in prefixes) or "ALL" in (
        p.upper() for p in prefixes
    )


def _selected(finding: Finding, options: LintOptions, config: Config) -> bool:
    select = options.select or config.select
    ignore = options.ignore + config.ignore
    if select and not _code_matches(finding.code, select):
        return False
    if _code_matches(finding.code, ignore):
        return False
    for pattern, codes in config.per_file_ignores.items():
        absolute = _abs(finding.path, options.cwd)
        try:
            rel = absolute.relative_to(config.root).as_posix()
        except ValueError:
            rel = finding.path
        if matches(rel, (pattern,)) and _code_matches(finding.code, codes):
            return False
    return True
