"""The pre-filter: which files can matter, decided on bytes, then on demand.

Seeds are the files whose bytes hold a write to the tasks table: SQL text that
names it after UPDATE or INTO (any case, quoted or not, comments between), a write to a table
named by an interpolated value, or a sqlite-utils write to it. From there the
program grows only where the analysis asks:

- where SQL text naming the table flows: into the modules a call passes it
  to, and from the constants and functions holding it into the files that
  name them and run SQL;
- the callers of every function whose verdict depends on its callers (a
  parameter written to the status column, the guarded state or an unknown
  written outside the claim path), found by name in the bytes;
- the modules of names the analysis met but could not resolve.

A file that cannot matter is never parsed. `--no-prefilter` parses every file,
and must give the same findings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from kanban_audit.linter.claimpath import Analysis
from kanban_audit.linter.solve.program import Program
from kanban_audit.linter.values import Expr, Lit, Ref
from kanban_audit.rulepack import RulePack

TABLE_WRITE_METHODS = ("update", "insert", "upsert", "insert_all", "upsert_all")
# How far after UPDATE / INTO the table and what makes it a write are looked for.
AFTER_KEYWORD = 512
# SQL comments (a line comment ends at a real or an escaped newline) and Python ones.
_COMMENTS = re.compile(rb"--(?:(?!\\n)[^\n])*|/\*.*?(?:\*/|\Z)|\#[^\n]*", re.DOTALL)
_WORD = re.compile(rb"[A-Za-z0-9_\x80-\xff]+")  # identifiers, UTF-8 ones too


@dataclass
class Prefilter:
    """The files of a run and what has been searched in them so far."""

    contents: dict[str, bytes]  # display path -> bytes
    modules: dict[str, str]  # module name -> display path
    pack: RulePack
    aliases: dict[str, list[str]] = field(default_factory=dict)  # alias -> display paths
    searched: set[str] = field(default_factory=set)  # function names looked for
    _seed_files: set[str] = field(default_factory=set)
    _word_sets: dict[str, set[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        table = re.escape(self.pack.tasks.table.lower().encode())
        self._table = self.pack.tasks.table.lower().encode()
        # Spaces, quotes, brackets, string joins, escapes (\\n); comments are gone by then.
        gap = rb"""(?:[\s"'`\[\]+]|\\[nrt]?)*"""
        # After UPDATE / INTO: [OR x] [schema.]tasks, then what makes it a write.
        self._after_keyword = re.compile(
            rb"(?:\s+or\s+\w+)?"
            + gap
            + rb"(?:\w+"
            + gap
            + rb"\."
            + gap
            + rb")?"
            + table
            + rb"\b(?:[\s\"'`\]\\]*\+|"
            + gap
            + rb"(?:as\b"
            + gap
            + rb"\w+"
            + gap
            + rb")?"
            + rb"(?:set\b|\(|values\b|select\b|default\b|\{|indexed\b|not\b))"
        )
        # After UPDATE / INTO: a table named by an interpolated value.
        self._after_keyword_computed = re.compile(
            rb"(?:\s+or\s+\w+)?[ \t]*(?:\{[^{}\n]*\}|%s|%\(\w+\)s|[\"'][ \t]*\+)"
            rb"(?:(?!update\b)[^;]){0,120}?\b(?:set|values|select)\b"
        )
        # sqlite-utils: db["tasks"].insert(...), db.table("tasks"), around the quoted name.
        self._before_name = re.compile(rb"(?:\[|\btable\()\s*\Z")
        self._after_name = re.compile(
            rb"\s*(?:\)|\]\s*\.\s*(?:" + "|".join(TABLE_WRITE_METHODS).encode() + rb")\b)"
        )
        methods = "|".join(re.escape(m) for m in self.pack.lint.sql_methods)
        self._runs_sql = re.compile(
            rb"\.\s*(?:"
            + methods.encode()
            + rb")\s*\(|\]\s*\.\s*(?:"
            + "|".join(TABLE_WRITE_METHODS).encode()
            + rb")\s*\("
        )

    # -- seeds ---------------------------------------------------------------

    def seeds(self) -> list[str]:
        """Files that hold a write to the table in their own bytes."""
        self._seed_files = {d for d, data in self.contents.items() if self.writes_table(data)}
        return sorted(self._seed_files)

    def writes_table(self, data: bytes) -> bool:
        """A write to the table in these bytes: UPDATE or INTO before its name (any case,
        quoted, schema-qualified, split over adjacent strings) or before an
        interpolated name, or a sqlite-utils write to it."""
        low = data.lower()
        named = self._table in low
        for keyword in (b"update", b"into"):
            for end in _keyword_ends(low, keyword):
                after = _COMMENTS.sub(b" ", low[end : end + AFTER_KEYWORD])
                if named and self._after_keyword.match(after):
                    return True
                if self._after_keyword_computed.match(after):
                    return True
        return named and self._names_table_object(low)

    def _names_table_object(self, low: bytes) -> bool:
        for quote in (b'"', b"'"):
            needle = quote + self._table + quote
            at = low.find(needle)
            while at >= 0:
                if self._before_name.search(low[max(0, at - 32) : at]) and self._after_name.match(
                    low, at + len(needle)
                ):
                    return True
                at = low.find(needle, at + 1)
        return False

    # -- growth --------------------------------------------------------------

    def more(self, program: Program, analysis: Analysis, loaded: set[str]) -> set[str]:
        """The files the program needs next, given what the analysis asked for."""
        wanted = self._sql_flows(program)
        wanted |= self._callers(program, analysis.callers_needed)
        wanted |= self._modules_of(analysis.unresolved | self._unresolved_calls(program))
        return wanted - loaded

    def _sql_flows(self, program: Program) -> set[str]:
        """Where SQL text naming the table goes: the modules a call passes it to, and
        the files that run SQL and name a constant or function holding it.

        Only seed files hold such text, so only their summaries are read.
        """
        index = program.index
        carriers: set[str] = set()
        missing: set[str] = set()
        for summary in index.modules.values():
            if summary.path not in self._seed_files:
                continue
            for qual, value in summary.globals.items():
                if self._holds_sql(value):
                    carriers.add(qual.rsplit(".", 1)[1])
            for qual, fn in summary.functions.items():
                if any(self._holds_sql(ret) for ret in fn.returns):
                    carriers.add(qual.rsplit(".", 1)[1])
                for call in fn.calls:
                    if (
                        isinstance(call.func, Ref)
                        and index.resolve(call.func.qual) is None
                        and self._holds_sql((call.args, call.kwargs))
                    ):
                        missing.add(call.func.qual)
        wanted = self._modules_of(missing)
        for name in carriers - self.searched:
            self.searched.add(name)
            wanted |= self._naming(name, set(), runs_sql=True)
        return wanted

    def _holds_sql(self, expr: Expr) -> bool:
        """Whether an expression's literal text (its string parts joined, as adjacent
        strings and f-strings are) names the table in a write."""
        text = "".join(_literals(expr))
        return bool(text) and self.writes_table(text.encode("utf-8", "replace"))

    def _callers(self, program: Program, needed: set[str]) -> set[str]:
        """Files that may call the functions whose every caller matters.

        A module-level function is reached from another file through its module
        (import board.db / from board import db / from board.db import f /
        from .db import f), or through a package that re-exports it: that file
        names the function and the module, or such a package. Methods are
        reached through instances, so their name alone counts.
        """
        index = program.index
        needs: dict[str, set[str]] = {}
        for qual in needed:
            name = qual.rsplit(".", 1)[1]
            fn = index.functions.get(qual)
            if fn is None or name == "<module>" or name in self.searched:
                continue
            parts = set() if fn.bound else self._ways_in(index.owner[qual].module, name)
            if name in needs and (not needs[name] or not parts):
                needs[name] = set()
            else:
                needs[name] = needs.get(name, set()) | parts
        self.searched.update(needs)
        return {d for name, parts in needs.items() for d in self._naming(name, parts)}

    def _naming(self, name: str, parts: set[str], runs_sql: bool = False) -> set[str]:
        """Files that name `name` (and one of `parts`, if any) as whole words."""
        needle = name.encode()
        wanted = set()
        for display, data in self.contents.items():
            if needle not in data:
                continue
            words = self._words(display)
            if needle not in words or (parts and not any(p.encode() in words for p in parts)):
                continue
            if not runs_sql or self._runs_sql.search(data):
                wanted.add(display)
        return wanted

    def _words(self, display: str) -> set[bytes]:
        found = self._word_sets.get(display)
        if found is None:
            found = self._word_sets[display] = set(_WORD.findall(self.contents[display]))
        return found

    def _ways_in(self, module: str, name: str) -> set[str]:
        """The names an importer of `module.name` must mention: the module's own, and
        those of the enclosing packages whose __init__ names it (re-exports)."""
        parts = module.split(".")
        ways = {parts[-1]}
        for n in range(len(parts) - 1, 0, -1):
            display = self.modules.get(".".join(parts[:n]))
            if (
                display
                and display.endswith("__init__.py")
                and name.encode() in self.contents[display]
            ):
                ways.add(parts[n - 1])
        return ways

    def _unresolved_calls(self, program: Program) -> set[str]:
        """Calls that may reach a searched function through a module not loaded yet
        (a re-export in a package's __init__)."""
        index = program.index
        return {
            call.func.qual
            for fn in index.functions.values()
            for call in fn.calls
            if isinstance(call.func, Ref)
            and call.func.qual.rsplit(".", 1)[-1] in self.searched
            and index.resolve(call.func.qual) is None
        }

    def _modules_of(self, names: Iterable[str]) -> set[str]:
        """The files of the modules that qualified names live in (longest prefix), by
        module name or alias."""
        wanted: set[str] = set()
        for qual in names:
            parts = qual.split(".")
            for n in range(len(parts), 0, -1):
                name = ".".join(parts[:n])
                found = [self.modules[name]] if name in self.modules else self.aliases.get(name)
                if found:
                    wanted.update(found)
                    break
        return wanted


def _literals(expr: object) -> list[str]:
    """The string literals inside an expression, in order, each shared node once."""
    found: list[str] = []
    seen: set[int] = set()
    todo = [expr]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Lit):
            if isinstance(node.value, str):
                found.append(node.value)
        elif isinstance(node, tuple):
            todo.extend(reversed(node))
        elif hasattr(node, "__dataclass_fields__"):
            todo.extend(reversed([getattr(node, f) for f in node.__dataclass_fields__]))
    return found


def _keyword_ends(low: bytes, keyword: bytes) -> list[int]:
    """Where each whole-word occurrence of a keyword ends (found by find(), in C)."""
    ends: list[int] = []
    at = low.find(keyword)
    size = len(keyword)
    while at >= 0:
        before = low[at - 1 : at]
        after = low[at + size : at + size + 1]
        if not (before.isalnum() or before == b"_") and not (after.isalnum() or after == b"_"):
            ends.append(at + size)
        at = low.find(keyword, at + size)
    return ends
