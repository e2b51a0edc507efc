"""The pre-filter: which files can matter, decided on bytes before any parse.

A write needs the tasks table, its status column and a write method named in
the file. Then the program grows to a fixpoint: files that call a writer
found so far (by name, and for module functions with a part of the module
path), and the modules a writer imports, for the constants and helpers it
uses. A file that cannot matter is never parsed.
"""

from __future__ import annotations

import functools
import re

from kanban_audit.linter.claimpath import may_write_status
from kanban_audit.linter.solve.program import Program
from kanban_audit.linter.values import ModuleSummary
from kanban_audit.rulepack import RulePack

TABLE_WRITE_METHODS = ("update", "insert", "upsert", "insert_all", "upsert_all")


def may_write(data: bytes, pack: RulePack) -> bool:
    """Whether a file names the table, the column and a write method.

    Plain substring tests first; the word-boundary regexes confirm."""
    table, column = pack.tasks.table.encode(), pack.tasks.status.encode()
    if table not in data or column not in data:
        return False
    methods = (*pack.lint.sql_methods, *TABLE_WRITE_METHODS)
    if not any(m.encode() in data for m in methods):
        return False
    return bool(
        word_regex([pack.tasks.table]).search(data)
        and word_regex([pack.tasks.status]).search(data)
        and word_regex(list(methods)).search(data)
    )


def more_files(
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
        for caller, _, _ in program.graph.callers.get(work.pop(), []):
            if caller not in writers:
                writers.add(caller)
                work.append(caller)
    wanted: set[str] = set()
    owner = program.index.owner
    for summary in {id(owner[q]): owner[q] for q in writers}.values():
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
        module = owner[qual].module
        parts = set() if fn.bound else set(module.split("."))
        if name in needs and (not needs[name] or not parts):
            needs[name] = set()
        else:
            needs[name] = needs.get(name, set()) | parts
    searched.update(needs)
    for name, parts in needs.items():
        needle = name.encode()
        via = word_regex(sorted(parts)) if parts else None
        wanted |= {
            d
            for d, data in contents.items()
            if d not in done
            and needle in data
            and word_regex([name]).search(data)
            and (via is None or via.search(data))
        }
    return program, sorted(wanted - set(done))


@functools.lru_cache(maxsize=64)
def _word_regex_cached(words: tuple[str, ...]) -> re.Pattern[bytes]:
    alternatives = b"|".join(re.escape(w.encode("utf-8")) for w in words)
    return re.compile(rb"(?<![\w])(?:" + alternatives + rb")(?![\w])")


def word_regex(words: list[str]) -> re.Pattern[bytes]:
    return _word_regex_cached(tuple(words))
