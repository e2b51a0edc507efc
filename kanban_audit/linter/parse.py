"""Files to summaries: decode, keep pathological input out, parse (in parallel).

Every failure becomes a message for the file's error entry; nothing here
raises for bad input, so one broken file never stops the run.
"""

from __future__ import annotations

import ast
import io
import os
import sys
import threading
import tokenize
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from kanban_audit.linter.depth import nesting_problem
from kanban_audit.linter.findings import FileError
from kanban_audit.linter.values import ModuleSummary

PARALLEL_THRESHOLD = 8
DEEP_STACK_BYTES = 512 * 1024 * 1024
DEEP_RECURSION = 30_000


@dataclass(frozen=True)
class ParseJob:
    """One file to summarise: everything a worker process needs, picklable."""

    display: str
    module: str
    data: bytes
    sql_methods: tuple[str, ...]


# The summary, or why there is none: a message, or an error with its place.
Outcome = tuple[ModuleSummary | None, str | FileError | None]


def summarize_all(
    jobs: list[ParseJob], workers: int, progress: Callable[[int, int], None] | None
) -> list[Outcome]:
    """(summary, None) or (None, error message) per job, in order."""
    if workers > 1 and len(jobs) >= PARALLEL_THRESHOLD:
        # Imported here: most runs parse too few files to need a pool.
        import concurrent.futures
        import multiprocessing

        context = multiprocessing.get_context("fork" if sys.platform != "win32" else "spawn")
        with concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_set_up_worker
        ) as pool:
            return list(
                _with_progress(pool.map(summarize_one, jobs, chunksize=4), len(jobs), progress)
            )
    return list(_with_progress(map(summarize_one, jobs), len(jobs), progress))


def _with_progress(
    items: Iterable[Outcome], total: int, progress: Callable[[int, int], None] | None
) -> Iterator[Outcome]:
    for n, item in enumerate(items, 1):
        if progress:
            progress(n, total)
        yield item


def _set_up_worker() -> None:
    """Import the parser once per worker process, not once per file."""
    import kanban_audit.linter.summary  # noqa: F401


def summarize_one(job: ParseJob) -> Outcome:
    """Runs in a worker: never raises, returns (summary, None) or (None, message)."""
    from kanban_audit.linter.summary import summarize

    try:
        text = decode(job.data)
    except (SyntaxError, UnicodeDecodeError, LookupError) as exc:
        return None, f"cannot decode: {exc.__class__.__name__}: {first_line(exc)}"
    too_deep = nesting_problem(text)
    if too_deep:
        return None, f"too deeply nested to analyse ({too_deep})"
    try:
        summary = with_deep_stack(
            summarize, text.encode("utf-8"), job.display, job.module, job.sql_methods
        )
        return summary, None
    except RecursionError:
        return None, "too deeply nested to analyse"
    except Exception as exc:  # LibCST raises several types for bad syntax
        name = type(exc).__name__
        if name == "ParserSyntaxError":
            return None, syntax_error(text, job.display, exc)
        return None, f"cannot analyse: {name}: {first_line(exc)}"


def syntax_error(text: str, display: str, libcst_error: Exception) -> FileError:
    """CPython's own message and position: LibCST's column often points elsewhere."""
    try:
        compile(text, display, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return FileError(display, f"syntax error: {exc.msg}", exc.lineno or 0, exc.offset or 0)
    except (ValueError, MemoryError, RecursionError):
        pass
    line = getattr(libcst_error, "raw_line", 0)
    col = getattr(libcst_error, "raw_column", -1) + 1
    return FileError(display, f"syntax error: {first_line(libcst_error)}", line, col)


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
        worker = threading.Thread(target=target, name="kanban-audit-parse")
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
