"""Files to summaries: decode, keep pathological input out, parse (in parallel).

Every failure becomes a message for the file's error entry; nothing here
raises for bad input, so one broken file never stops the run.
"""

from __future__ import annotations

import ast
import io
import os
import signal
import sys
import threading
import tokenize
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kanban_audit.linter import codec
from kanban_audit.linter.findings import FileError
from kanban_audit.linter.values import ChunkSummary, ModuleSummary

DEEP_STACK_BYTES = 512 * 1024 * 1024
DEEP_RECURSION = 30_000


@dataclass(frozen=True)
class ParseJob:
    """One file to summarise: everything a worker process needs, picklable."""

    display: str
    module: str
    data: bytes
    sql_methods: tuple[str, ...]
    cache_dir: Path | None = None  # where unchanged chunks of the file may be found
    fields: tuple[str, ...] = ()  # model fields whose writes are ORM writes


@dataclass
class Outcome:
    """A summary and the chunks summarised anew, or why there is none."""

    summary: ModuleSummary | None
    error: str | FileError | None = None  # a message, or an error with its place
    fresh: list[tuple[str, ChunkSummary, int]] = field(default_factory=list)


def summarize_all(
    jobs: list[ParseJob], workers: int, progress: Callable[[int, int], None] | None
) -> list[Outcome]:
    """(summary, None) or (None, error message) per job, in order.

    Two files or more are parsed in parallel: the parser is imported once, here,
    before the worker processes fork, and the largest files go first.
    """
    if not jobs:
        return []
    workers = min(workers, len(jobs))
    if workers < 2 or sys.platform == "win32":
        return list(_with_progress(map(summarize_one, jobs), len(jobs), progress))
    import concurrent.futures
    import multiprocessing

    _set_up_worker()  # imported once, here: the workers inherit it
    order = sorted(range(len(jobs)), key=lambda n: -len(jobs[n].data))
    context = multiprocessing.get_context("fork")
    results: list[Outcome | None] = [None] * len(jobs)
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_ignore_interrupts
    )
    try:
        futures = {pool.submit(_summarize_encoded, jobs[n]): n for n in order}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            results[futures[future]] = _decoded(future.result())
            if progress:
                progress(done, len(jobs))
    except BaseException:
        # On Ctrl-C nothing more is parsed: the files not yet started are dropped,
        # and the ones being parsed (one file can take long) are stopped.
        workers_now = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in workers_now:
            process.terminate()
        raise
    pool.shutdown(wait=True)
    return [r for r in results if r is not None]


def _summarize_encoded(job: ParseJob) -> Outcome:
    """`summarize_one` in a worker, its summaries sent as the cache's data-only
    encoding (codec.py), made on the deep stack: a summary nests as deeply as the
    code it was made from (1,400 chained `+`), past what the pool could pickle, and
    the main process rebuilds it from node tables, never unpickling what a worker
    made of the analysed code."""
    outcome = summarize_one(job)
    summary = outcome.summary
    return Outcome(
        with_deep_stack(codec.encode, summary) if summary is not None else None,  # type: ignore[arg-type]
        outcome.error,
        [(key, with_deep_stack(codec.encode, chunk), n) for key, chunk, n in outcome.fresh],  # type: ignore[misc]
    )


def _decoded(sent: Outcome) -> Outcome:
    """A worker's outcome with its summaries decoded (codec.py validates them)."""
    summary = codec.decode(sent.summary) if sent.summary is not None else None  # type: ignore[arg-type]
    fresh = [(key, codec.decode(data, ChunkSummary), n) for key, data, n in sent.fresh]  # type: ignore[arg-type]
    return Outcome(summary, sent.error, fresh)


def _ignore_interrupts() -> None:
    """A worker leaves Ctrl-C (sent to the whole process group) to the main process,
    which stops the pool: no traceback from every worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _with_progress(
    items: Iterable[Outcome], total: int, progress: Callable[[int, int], None] | None
) -> Iterator[Outcome]:
    for n, item in enumerate(items, 1):
        if progress:
            progress(n, total)
        yield item


def _set_up_worker() -> None:
    """Import the parser before the worker processes fork, not once per file."""
    import libcst  # noqa: F401

    import kanban_audit.linter.summarize.interpreter  # noqa: F401


def summarize_one(job: ParseJob) -> Outcome:
    """Runs in a worker: never raises; the summary, or why there is none."""
    from kanban_audit.linter.cache import SummaryCache, salt
    from kanban_audit.linter.summarize import TooDeep, summarize

    try:
        text = decode(job.data)
        data = text.encode("utf-8")
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return Outcome(None, f"cannot decode: {exc.__class__.__name__}: {first_line(exc)}")
    cache = SummaryCache(job.cache_dir) if job.cache_dir else None
    try:
        lookup = cache.get_chunk if cache else None
        summary, fresh = with_deep_stack(
            summarize, data, job.display, job.module, job.sql_methods, lookup, salt(), job.fields
        )
        return Outcome(summary, None, fresh)
    except SyntaxError as exc:
        return Outcome(None, syntax_error(text, job.display, exc))
    except TooDeep as exc:
        return Outcome(None, f"too deeply nested to analyse ({exc})")
    except (RecursionError, MemoryError):
        return Outcome(None, "too deeply nested to analyse")
    except Exception as exc:  # LibCST raises several types for bad syntax
        name = type(exc).__name__
        if name == "ParserSyntaxError":
            return Outcome(None, syntax_error(text, job.display, exc))
        return Outcome(None, f"cannot analyse: {name}: {first_line(exc)}")
    finally:
        if cache:
            cache.close()


def syntax_error(text: str, display: str, error: Exception) -> FileError:
    """CPython's own message and position (in characters), whichever parser failed."""
    try:
        compile(text, display, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return FileError(display, f"syntax error: {exc.msg}", exc.lineno or 0, exc.offset or 0)
    except (ValueError, MemoryError, RecursionError):
        pass
    line = getattr(error, "raw_line", 0)
    col = getattr(error, "raw_column", -1) + 1
    return FileError(display, f"syntax error: {first_line(error)}", line, col)


def with_deep_stack(function, *args):
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
        # A daemon: on Ctrl-C the process exits without waiting for the analysis to end.
        worker = threading.Thread(target=target, name="kanban-audit-parse", daemon=True)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(previous_stack)
        sys.setrecursionlimit(previous_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def decode(data: bytes) -> str:
    """Source bytes to text, honouring a PEP 263 coding cookie."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def worker_count(jobs: int) -> int:
    return jobs or os.cpu_count() or 1
