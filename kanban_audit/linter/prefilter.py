"""The pre-filter: which files can matter, decided on bytes, then on demand.

Seeds are the files whose bytes hold a write to the tasks table: SQL text that
names it after UPDATE or INTO (any case, quoted or not, comments between), a write to a table
named by an interpolated value, or a sqlite-utils write to it; the files that
name one of the tree's `.sql` files that writes the table (or a `.sql` file by a
built name, `"*.sql"`), or an SQL function whose body writes it; and (when a
file may define the tasks model) an ORM write (ormseeds.py). From there the
program grows only where the analysis asks:

- where SQL text naming the table flows: into the modules a call passes it
  to, and from the constants and functions holding it into the files that
  name them and run SQL; SQL read from the tree's files goes into every file
  naming its holder, and into the files defining the methods it is passed to;
- the callers of every function whose verdict depends on its callers (a
  parameter written to the status column, the guarded state or an unknown
  written outside the claim path), found by name in the bytes, and the files
  that may reach it by `getattr` (a looked-up callable that is called, with
  the module or class named, or a `name_`/`_name` part of the function's name);
- the modules of names the analysis met but could not resolve, and of the
  decorators of functions that write or return SQL naming the table;
- the files with a class statement deriving from a class whose subclasses a
  decision read (what they store in `self.x` is what its methods read).

A file that cannot matter is never parsed. `--no-prefilter` parses every file,
and must give the same findings.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kanban_audit.linter.claimpath import Analysis
from kanban_audit.linter.ormseeds import orm_seeds
from kanban_audit.linter.solve.program import Program
from kanban_audit.linter.sqlfiles import names_sql_file
from kanban_audit.linter.sqlfunctions import defined_functions
from kanban_audit.linter.values import (
    Attr,
    BinOp,
    Call,
    Concat,
    DictLit,
    Expr,
    Lit,
    Ref,
    Site,
    walk,
)
from kanban_audit.rulepack import RulePack

TABLE_WRITE_METHODS = ("update", "insert", "upsert", "insert_all", "upsert_all")
# How far after UPDATE / INTO the table and what makes it a write are looked for.
AFTER_KEYWORD = 512
# SQL comments (a line comment ends at a real or an escaped newline) and Python ones.
_COMMENTS = re.compile(rb"--(?:(?!\\n)[^\n])*|/\*.*?(?:\*/|\Z)|\#[^\n]*", re.DOTALL)
_WORD = re.compile(rb"[A-Za-z0-9_\x80-\xff]+")  # identifiers, UTF-8 ones too
# After `getattr(receiver,`: a name that is not one plain string literal.
_COMPUTED_NAME = rb"""(?!\s*[rRbBuU]?(?:"\w*"|'\w*')\s*[,)])"""
_COMPUTED = re.compile(_COMPUTED_NAME)
# A class statement's bases; the match must not follow a name or a dot (checked in
# Python: a leading lookbehind would make the regex engine try every position).
_CLASS_BASES = re.compile(rb"class\s+\w+\s*\(([^:]*)\)\s*:")
_KEPT = re.compile(rb"(\w+)\s*=\s*\Z")  # `name = ` before a getattr
_QUOTES = (b'"', b"'")
# After INTO, in the original case: `{t}({t}) VALUES (...)` that ends the string there,
# with no string joined after it (where an upsert's `DO UPDATE SET` could follow).
_FULL_TEXT_COMMAND = re.compile(
    rb"""[ \t]*(\{[^{}\n]*\})\s*\(\s*\1\s*\)\s*(?i:values)\s*\((?:[^()'"\\]|'[^'"\\]*')*\)\s*["']"""
    rb"""(?!\s*(?:\+|\\|[rbfu]{0,2}["']))"""
)
_VALUE_AFTER = re.compile(rb"""[{%]|["']\s*\+""")  # after a literal's start: a value joins
_VALUE_BEFORE = re.compile(rb"""\+\s*["']\Z""")  # before a literal's end: a value joins
_ASSIGNED = re.compile(rb"(\w+)\s*=\s*(?:\w+\s*\.\s*)*\Z")  # `name = mod.` before a call
# getattr(obj, "name"...): a constant name, the common case, is not a dispatch.
_CONSTANT_LOOKUP = re.compile(rb"""getattr\s*\(\s*[\w.]+\s*,\s*[rRbBuU]?(?:"\w*"|'\w*')""")
# A relative import, a star import (no leading \b: the literal start keeps the search fast).
_RELATIVE = re.compile(rb"from[ \t]+\.")
_STAR_IMPORT = re.compile(rb"import[ \t]+\*")
MAX_LOOKUP = 400  # bytes of getattr's arguments read
# In a text joined from parts: the parts that are text themselves, not values in it.
_TEXTS = (Lit, Concat, BinOp)
_HOLE = object()  # where a joined value stands (`_literals`)


@dataclass
class Prefilter:
    """The files of a run and what has been searched in them so far."""

    contents: dict[str, bytes]  # display path -> bytes
    modules: dict[str, str]  # module name -> display path
    pack: RulePack
    aliases: dict[str, list[str]] = field(default_factory=dict)  # alias -> display paths
    searched: set[str] = field(default_factory=set)  # function names looked for
    looked_up: set[str] = field(default_factory=set)  # functions looked for behind getattr
    classes_searched: set[str] = field(default_factory=set)  # class names looked for
    verdicts: dict[str, bool] = field(default_factory=dict)  # display -> is a seed
    _seed_files: set[str] = field(default_factory=set)
    _word_sets: dict[str, set[bytes]] = field(default_factory=dict)
    _bases: dict[str, bytes] = field(default_factory=dict)  # display -> its class bases
    _looks_up: dict[tuple[str, bytes, bool], bool] = field(default_factory=dict)
    _dispatchers: list[str] | None = None
    _schemas_searched: bool = False
    _stars: set[str] | None = None
    _holders: dict[bytes, list[str]] = field(default_factory=dict)  # needle -> files
    # The analysed tree's `.sql` files (display path -> text): SQL the code may read.
    sql_texts: dict[str, str] = field(default_factory=dict)
    _sql_needles: tuple[bytes, ...] = ()  # SQL functions writing the table, by name
    _sql_names: frozenset[bytes] = frozenset()  # the tree's SQL files that write it
    _read_holders: set[str] = field(default_factory=set)  # names holding SQL read from them
    _read_methods: set[str] = field(default_factory=set)  # methods that SQL is passed to
    _methods_searched: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._module_of = {display: module for module, display in self.modules.items()}
        table = _glob_regex(self.pack.tasks.table.lower())
        # What every name of the table holds: the name, or a pattern's literal part.
        self._table = self.pack.tasks.table_text.encode()
        self._quoted_table = re.compile(rb"[\"'](?:" + table + rb")[\"']")
        self._status = self.pack.tasks.status.lower().encode()
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
        # After UPDATE / INTO: a table named (or partly named: `[{name}_jobs]`,
        # `` `ack_{name}` ``) by an interpolated value.
        self._after_keyword_computed = re.compile(
            rb"(?:\s+or\s+\w+)?[ \t]*[`\[\\\"]{0,2}[\w.]*"
            rb"(?:\{[^{}\n]*\}|%s|%\(\w+\)s|[\"'][ \t]*\+)"
            rb"(?:(?!update\b)[^;]){0,120}?\b(?:set|values|select)\b"
        )
        # In lower-cased text: CREATE [TEMP] TABLE [IF NOT EXISTS] [schema.]tasks, and
        # INSERT INTO [schema.]tasks VALUES (no column list).
        self._creates = re.compile(
            rb"create\s+(?:temp\w*\s+)?table\s+(?:if\s+not\s+exists\s+)?"
            + rb"(?:[\w\"'`\[\]]+\.)?[\"'`\[]?"
            + table
            + rb"\b"
        )
        self._positional = re.compile(
            rb"into[\w\s\"'`\[\].]{0,40}?" + table + rb"[\s\"'`\]\\n]{0,8}values\b"
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

    def seeds(self, known: Mapping[str, bool] | None = None) -> list[str]:
        """Files that hold a write to the table in their own bytes. `known` holds
        verdicts on some files' bytes reached before; `verdicts` has every one after."""
        known = known or {}
        self.verdicts = {
            display: known[display] if display in known else self.writes_table(data)
            for display, data in self.contents.items()
        }
        self._seed_files = {display for display, seed in self.verdicts.items() if seed}
        self._sql_needles = self._functions_writing()
        self._sql_names = self._files_writing()
        self._seed_files |= {
            display for display, data in self.contents.items() if self._reads_sql(data)
        }
        self._seed_files |= orm_seeds(self.contents, self.pack.tasks)
        return sorted(self._seed_files)

    def _reads_sql(self, data: bytes) -> bool:
        """Whether bytes may reach a write seen only through SQL kept elsewhere: they
        name one of the tree's SQL files that writes the table (or calls an SQL function
        that does), or such a function."""
        return any(needle in data for needle in self._sql_needles) or (
            bool(self._sql_names) and names_sql_file(data, self._sql_names)
        )

    def _functions_writing(self) -> tuple[bytes, ...]:
        """The names of the SQL functions whose bodies write the table, defined in the
        tree's SQL files or in SQL text of a file that writes the table."""
        sources = list(self.sql_texts.values()) + [
            self.contents[d].decode("utf-8", "replace")
            for d in self._seed_files
            if b"create" in self.contents[d].lower()
        ]
        names = {
            function.name.rsplit(".", 1)[-1]
            for text in sources
            for function in defined_functions(text)
            if self.writes_table(function.body.encode("utf-8", "replace"))
        }
        return tuple(name.encode() for name in sorted(names))

    def _files_writing(self) -> frozenset[bytes]:
        """The file names of the tree's SQL files that write the table or call a
        function that does."""
        found = set()
        for display, text in self.sql_texts.items():
            data = text.encode("utf-8", "replace")
            if self.writes_table(data) or any(n in data.lower() for n in self._sql_needles):
                found.add(display.rsplit("/", 1)[-1].lower().encode("utf-8", "replace"))
        return frozenset(found)

    def writes_table(self, data: bytes) -> bool:
        """A write to the table in these bytes: UPDATE or INTO before its name (any case,
        quoted, schema-qualified, split over adjacent strings) or before an
        interpolated name, or a sqlite-utils write to it."""
        if not self.pack.tasks.table:
            return False  # a pack that names only the ORM model: ormseeds.py
        low = data.lower()
        named = self._table in low
        for keyword in (b"update", b"into"):
            for end in _keyword_ends(low, keyword):
                after = _COMMENTS.sub(b" ", low[end : end + AFTER_KEYWORD])
                if named and self._after_keyword.match(after):
                    return True
                if self._after_keyword_computed.match(after) and not (
                    keyword == b"into" and self._command(data, end)
                ):
                    return True
        return named and self._names_table_object(low)

    def _command(self, data: bytes, end: int) -> bool:
        """Whether the INSERT whose INTO ends at `end` is a full-text command (`INSERT
        INTO {t}({t}) VALUES('rebuild')`): its one column is named like its table, so
        it cannot write the status column (unless that column is named like the table).
        Read in the original case: `{T}` and `{t}` are different values."""
        return (
            self._status != self._table
            and _FULL_TEXT_COMMAND.match(data, end, end + AFTER_KEYWORD) is not None
        )

    def _names_table_object(self, low: bytes) -> bool:
        for start, end in self._quoted_names(low):
            if self._before_name.search(low[max(0, start - 32) : start]) and self._after_name.match(
                low, end
            ):
                return True
        return False

    def _quoted_names(self, low: bytes) -> Iterable[tuple[int, int]]:
        """Where the table's name stands quoted: found by find() for a name, by the
        pattern's regex for a pattern (rare, and slower)."""
        if self.pack.tasks.table_is_pattern:
            yield from (found.span() for found in self._quoted_table.finditer(low))
            return
        for quote in _QUOTES:
            needle = quote + self._table + quote
            at = low.find(needle)
            while at >= 0:
                yield at, at + len(needle)
                at = low.find(needle, at + 1)

    # -- growth --------------------------------------------------------------

    def more(self, program: Program, analysis: Analysis, loaded: set[str]) -> set[str]:
        """The files the program needs next, given what the analysis asked for."""
        wanted = self._sql_flows(program)
        wanted |= self._callers(program, analysis.callers_needed)
        wanted |= self._lookups(program, analysis.callers_needed)
        unresolved = analysis.unresolved | self._unresolved_calls(program)
        wanted |= self._modules_of(unresolved | self._decorators(program))
        wanted |= self._subclass_files(analysis.subclassed)
        wanted |= self._schema_files(loaded)
        return wanted - loaded

    def _schema_files(self, loaded: set[str]) -> set[str]:
        """Files that create the tasks table, once a loaded file inserts into it with no
        column list: the program's own column order then says what it writes
        (solve/schema.py)."""
        if (
            not self.pack.tasks.table
            or self._schemas_searched
            or not any(
                self._positional.search(self.contents[display].lower()) for display in loaded
            )
        ):
            return set()
        self._schemas_searched = True
        return {display for display, data in self.contents.items() if self._creates_table(data)}

    def _creates_table(self, data: bytes) -> bool:
        low = data.lower()
        if self._table not in low:
            return False
        start = low.find(b"create")
        while start >= 0:
            if self._creates.match(low, start):
                return True
            start = low.find(b"create", start + 6)
        return False

    def _subclass_files(self, classes: set[str]) -> set[str]:
        """Files that may derive from these classes: those with a class statement that
        names one among its bases (`class Fast(Mover):`, `class Fast(store.Mover):`)."""
        names = {qual.rsplit(".", 1)[-1] for qual in classes} - self.classes_searched
        self.classes_searched |= names
        wanted: set[str] = set()
        for name in names:
            needle = name.encode()
            wanted |= {
                display
                for display, data in self.contents.items()
                if needle in data and _derives(self._class_bases(display), needle)
            }
        return wanted

    def _sql_flows(self, program: Program) -> set[str]:
        """Where SQL text naming the table goes: the modules a call passes it to, and
        the files that run SQL and name a constant or function holding it; for SQL read
        from the tree's own files (a constant or function naming such a file, or a
        constant made by calling one), every file that names the holder, as the text
        may reach SQL run there through helpers (a connector's `execute_query`).

        Only seed files hold such text, so only their summaries are read.
        """
        index = program.index
        carriers: set[str] = set()
        read: set[str] = set()
        missing: set[str] = set()
        for summary in index.modules.values():
            if summary.path not in self._seed_files:
                continue
            readers = {
                qual
                for qual, fn in summary.functions.items()
                if any(self._reads_file_sql(ret) for ret in fn.returns)
            }
            for qual, value in summary.globals.items():
                if self._reads_file_sql(value) or _calls_any(value, readers):
                    read.add(qual.rsplit(".", 1)[1])
                elif self._holds_sql(value):
                    carriers.add(qual.rsplit(".", 1)[1])
            read |= {qual.rsplit(".", 1)[1] for qual in readers}
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
        self._read_holders |= read
        wanted = self._modules_of(missing | self._read_passed_to(program))
        for name in carriers - read - self.searched:
            self.searched.add(name)
            wanted |= self._naming(name, set(), runs_sql=True)
        for name in read - self.searched:
            self.searched.add(name)
            wanted |= self._naming(name, set())
        return wanted | self._defining(self._read_methods)

    def _read_passed_to(self, program: Program) -> set[str]:
        """The functions the loaded code passes SQL read from the tree's files to (by
        the holder's name): unresolved ones by qualified name, to load their modules;
        methods by name into `_read_methods`, to load the files defining them."""
        index = program.index
        functions: set[str] = set()
        if not self._read_holders:
            return functions
        for fn in index.functions.values():
            for call in fn.calls:
                if not any(
                    isinstance(part, Ref) and part.qual.rsplit(".", 1)[-1] in self._read_holders
                    for part in walk((call.args, call.kwargs))
                ):
                    continue
                if isinstance(call.func, Ref) and index.resolve(call.func.qual) is None:
                    functions.add(call.func.qual)
                elif isinstance(call.func, Attr):
                    self._read_methods.add(call.func.name)
        return functions

    def _defining(self, methods: set[str]) -> set[str]:
        """Files that define a function or method of one of these names."""
        wanted: set[str] = set()
        for name in methods - self._methods_searched:
            self._methods_searched.add(name)
            needle = b"def " + name.encode()
            wanted |= {d for d in self._containing(needle) if name.encode() in self._words(d)}
        return wanted

    def _reads_file_sql(self, expr: Expr) -> bool:
        """Whether an expression's literal text names one of the tree's SQL files that
        write the table (solve/files.py reads it)."""
        if not self._sql_names:
            return False
        return any(
            names_sql_file(text.encode("utf-8", "replace"), self._sql_names)
            for text in _literals(expr)
        )

    def _decorators(self, program: Program) -> set[str]:
        """The decorators not loaded yet of the functions that write or return SQL
        naming the table: what a call of such a function reaches, and what runs the
        SQL it returns, is the decorator's to say (solve/decorators.py)."""
        index = program.index
        names: set[str] = set()
        for fn in index.functions.values():
            if not fn.decorators or not (fn.sinks or any(map(self._holds_sql, fn.returns))):
                continue
            for decorator in fn.decorators:
                named = decorator.func if isinstance(decorator, Call) else decorator
                if isinstance(named, Ref) and index.resolve(named.qual) is None:
                    names.add(named.qual)
        return names

    def _holds_sql(self, expr: Expr) -> bool:
        """Whether an expression's literal text (its string parts joined, as adjacent
        strings and f-strings are) names the table in a write. A dict of named queries
        is read text by text: a key joined to the text after it would hide its UPDATE."""
        if isinstance(expr, DictLit):
            return any(self._holds_sql(value) for _, value in expr.items)
        text = "".join(_literals(expr))
        data = text.encode("utf-8", "replace")
        return bool(text) and (self.writes_table(data) or self._reads_file_sql(expr))

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
        for qual in {index.origin(q) for q in needed}:  # a wrapper is called by its name
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

    def _lookups(self, program: Program, needed: set[str]) -> set[str]:
        """Files that may call these functions through `getattr` (solve/dispatch.py):
        they call what getattr returns, and look up in the function's module or
        class (or an instance of it, or `self` in a subclass), or build a name from
        a part of the method's (`f"_to_{state}"`)."""
        index = program.index
        wanted: set[str] = set()
        for qual in {index.origin(q) for q in needed} - self.looked_up:
            self.looked_up.add(qual)
            fn = index.functions.get(qual)
            name = qual.rsplit(".", 1)[1].encode()
            if fn is None or name == b"<module>":
                continue
            if fn.bound:
                owners = {fn.class_name.rsplit(".", 1)[-1]}
            else:
                owners = self._ways_in(index.owner[qual].module, name.decode())
            for display in self._dispatching():
                if any(
                    self._looks_up_in(display, owner.encode(), fn.bound) for owner in owners
                ) or (fn.bound and _builds(self.contents[display], name)):
                    wanted.add(display)
        return wanted

    def _looks_up_in(self, display: str, owner: bytes, bound: bool) -> bool:
        key = (display, owner, bound)
        found = self._looks_up.get(key)
        if found is None:
            data = self.contents[display]
            bases = self._class_bases(display) if bound else b""
            found = self._looks_up[key] = _looks_up_in(data, bases, owner, bound)
        return found

    def _class_bases(self, display: str) -> bytes:
        found = self._bases.get(display)
        if found is None:
            found = self._bases[display] = _class_bases(self.contents[display])
        return found

    def _dispatching(self) -> list[str]:
        """Files that call a callable looked up by getattr."""
        if self._dispatchers is None:
            self._dispatchers = [
                display
                for display, data in self.contents.items()
                if b"getattr" in data and _calls_lookup(data)
            ]
        return self._dispatchers

    def _naming(self, name: str, parts: set[str], runs_sql: bool = False) -> set[str]:
        """Files that name `name` as a whole word and, if `parts` are given, reach it
        through one of them (`_ways_in`)."""
        needle = name.encode()
        wanted = set()
        for display in self._containing(needle):
            words = self._words(display)
            if needle not in words or (parts and not any(self._reaches(display, p) for p in parts)):
                continue
            if not runs_sql or self._runs_sql.search(self.contents[display]):
                wanted.add(display)
        return wanted

    def _containing(self, needle: bytes) -> list[str]:
        """The files whose bytes hold `needle` anywhere (searched once a name)."""
        found = self._holders.get(needle)
        if found is None:
            found = self._holders[needle] = [
                display for display, data in self.contents.items() if needle in data
            ]
        return found

    def _reaches(self, display: str, part: str) -> bool:
        """Whether a file mentions a way in: a module's name, or (a folder, ending in
        `/`) lies in that package and imports relatively (`from . import f`)."""
        if part.endswith("/"):
            return display.startswith(part) and _RELATIVE.search(self.contents[display]) is not None
        return part.encode() in self._words(display)

    def _words(self, display: str) -> set[bytes]:
        found = self._word_sets.get(display)
        if found is None:
            found = self._word_sets[display] = set(_WORD.findall(self.contents[display]))
        return found

    def _ways_in(self, module: str, name: str) -> set[str]:
        """The ways an importer of `module.name` reaches it: the names of the module and
        of every module that imports it on (a package's __init__ re-exporting it, any
        module importing the name or everything, `*`, from one of these), which the
        importer must mention; and the folders of the packages among them, from
        inside which a relative import (`from . import f`) needs no name."""
        key = name.encode()
        ways = {module.rsplit(".", 1)[-1]}
        folders = self._package_folder(module)
        candidates = [
            display
            for display in {*self._containing(key), *self._star_importers()}
            if display in self._module_of
        ]
        grown = True
        while grown:
            grown = False
            for display in candidates:
                module_name = self._module_of[display]
                last = module_name.rsplit(".", 1)[-1]
                if last in ways:
                    continue
                words = self._words(display)
                forwards = key in words or display in self._star_importers()
                if forwards and any(self._reaches(display, way) for way in ways | folders):
                    ways.add(last)
                    folders |= self._package_folder(module_name)
                    grown = True
        return ways | folders

    def _star_importers(self) -> set[str]:
        """Files that import everything from a module (read once)."""
        if self._stars is None:
            self._stars = {
                display for display, data in self.contents.items() if _STAR_IMPORT.search(data)
            }
        return self._stars

    def _package_folder(self, module: str) -> set[str]:
        """The folder of the package a module is in (or is), as `_reaches` reads it."""
        display = self.modules.get(module, "")
        folder = display.rsplit("/", 1)[0] + "/" if "/" in display else ""
        if folder and (display.endswith("__init__.py") or folder + "__init__.py" in self.contents):
            return {folder}
        return set()

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


def _glob_regex(pattern: str) -> bytes:
    """A table name or glob pattern (`*jobs`, `app_?`, `[ab]_jobs`) as a regex over
    the bytes of one SQL name."""
    out = b""
    for part in re.split(r"(\*|\?|\[[^\]]*\])", pattern):
        if part == "*":
            out += rb"\w*"
        elif part == "?":
            out += rb"\w"
        elif part.startswith("[") and len(part) > 2:
            inner = part[1:-1]
            inner = "^" + inner[1:] if inner.startswith("!") else inner
            out += b"[" + inner.encode() + b"]"
        else:
            out += re.escape(part.encode())
    return out


def _literals(expr: object) -> list[str]:
    """The string literals inside an expression, in order, each shared node once. A
    value joined into a text (an f-string's `{x}`, `"..." + x`) leaves a hole `{vN}`
    where it stands: `UPDATE {v1} SET status` is a write to a table named by a value,
    and no two holes are the same value."""
    found: list[str] = []
    seen: set[int] = set()
    todo = [expr]
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is Lit:
            if type(node.value) is str:  # type: ignore[attr-defined]
                found.append(node.value)  # type: ignore[attr-defined]
            continue
        if node is _HOLE:
            found.append(f"{{v{len(found)}}}")
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        if kind is Concat or (kind is BinOp and node.op == "+"):  # type: ignore[attr-defined]
            parts = node.parts if kind is Concat else (node.left, node.right)  # type: ignore[attr-defined]
            for part in reversed(parts):
                todo.append(part)
                if type(part) not in _TEXTS:
                    todo.append(_HOLE)
        elif kind is tuple or kind is list:
            todo.extend(reversed(node))  # type: ignore[arg-type]
        elif kind is not Site and kind is not str and hasattr(node, "__dataclass_fields__"):
            todo.extend(reversed([getattr(node, f) for f in _expr_fields(kind)]))
    return found


@functools.cache
def _expr_fields(kind: type) -> tuple[str, ...]:
    """The fields of a value node that may hold other nodes (not names or numbers)."""
    return tuple(
        f.name for f in dataclasses.fields(kind) if f.type not in ("str", "int", "bool", "Site")
    )


def _calls_lookup(data: bytes) -> bool:
    """Whether the bytes call what getattr returns for a computed name: at once
    (`getattr(o, n)(...)`), or through the name it is assigned to."""
    kept: set[bytes] = set()
    at = data.find(b"getattr")
    while at >= 0:
        if _CONSTANT_LOOKUP.match(data, at):
            at = data.find(b"getattr", at + 7)
            continue
        after = _after_lookup(data, at)
        if after is not None:
            if data[after : after + 1] == b"(":
                return True
            name = _KEPT.search(data, max(0, at - 64), at)
            if name:
                kept.add(name.group(1))
        at = data.find(b"getattr", at + 7)
    return any(_at_word_start(re.compile(re.escape(name) + rb"\s*\("), data) for name in kept)


def _after_lookup(data: bytes, at: int) -> int | None:
    """Where the code goes on after the getattr call starting at `at` (spaces
    skipped), if it is one whose name is computed; else None."""
    if _in_name(data, at):
        return None
    opening = _skip_spaces(data, at + len(b"getattr"))
    if data[opening : opening + 1] != b"(":
        return None
    found = _arguments(data, opening + 1)
    if found is None or found[1] < 0 or not _COMPUTED.match(data, found[1] + 1):
        return None
    return _skip_spaces(data, found[0] + 1)


def _arguments(data: bytes, start: int) -> tuple[int, int] | None:
    """The closing parenthesis of the arguments that start at `start`, and the first
    comma between them (-1: none); None past MAX_LOOKUP bytes."""
    depth, comma = 1, -1
    for pos in range(start, min(len(data), start + MAX_LOOKUP)):
        char = data[pos]
        if char in b"([{":
            depth += 1
        elif char in b")]}":
            depth -= 1
            if depth == 0:
                return pos, comma
        elif char == ord(",") and depth == 1 and comma < 0:
            comma = pos
    return None


def _skip_spaces(data: bytes, pos: int) -> int:
    while data[pos : pos + 1].isspace():
        pos += 1
    return pos


def _calls_any(expr: Expr, functions: set[str]) -> bool:
    """Whether an expression calls one of these functions (by qualified name)."""
    return bool(functions) and any(
        isinstance(part, Call) and isinstance(part.func, Ref) and part.func.qual in functions
        for part in walk(expr)
    )


def _derives(bases: bytes, name: bytes) -> bool:
    """Whether `name` is among a file's class bases (`_class_bases`)."""
    return (
        name in bases and re.search(rb"(?<!\w)" + re.escape(name) + rb"(?!\w)", bases) is not None
    )


def _class_bases(data: bytes) -> bytes:
    """The base lists of every class statement in the bytes, joined (read once a file)."""
    if b"class" not in data:
        return b""
    return b"\n".join(
        match.group(1) for match in _CLASS_BASES.finditer(data) if not _in_name(data, match.start())
    )


def _in_name(data: bytes, at: int) -> bool:
    """Whether the byte before `at` continues a name or an attribute (`x.class`)."""
    return _word_char_before(data, at) or (at > 0 and data[at - 1] == ord("."))


def _word_char_before(data: bytes, at: int) -> bool:
    before = data[at - 1 : at] if at > 0 else b""
    return before.isalnum() or before == b"_"


def _looks_up_in(data: bytes, bases: bytes, owner: bytes, bound: bool) -> bool:
    """Whether getattr looks up a computed name in `owner` (a module or class, dotted
    or not) or, for a method, in an instance made from it here (`x = Owner(...)`,
    `Owner(...)`) or in `self` of a subclass. A constant name names the function
    itself, which the search by name finds."""
    if owner not in data:
        return False
    receivers = [re.escape(owner)]
    if bound:
        receivers += [re.escape(name) for name in _made_from(data, owner)]
        if _derives(bases, owner):
            receivers.append(b"self")
    lookup = (
        rb"getattr\s*\(\s*(?:\w+\s*\.\s*)*(?:"
        + b"|".join(receivers)
        + rb")\b\s*(?:\((?:[^()]|\([^()]*\))*\)\s*)?,"
        + _COMPUTED_NAME
    )
    return _at_word_start(re.compile(lookup), data)


def _made_from(data: bytes, owner: bytes) -> set[bytes]:
    """The names assigned an instance made from `owner`: `x = Owner(...)`,
    `x = mod.Owner(...)` (the name is read backwards from each call)."""
    names = set()
    for call in re.finditer(re.escape(owner) + rb"\s*\(", data):
        at = call.start()
        if not _word_char_before(data, at):
            assigned = _ASSIGNED.search(data, max(0, at - MAX_LOOKUP), at)
            if assigned:
                names.add(assigned.group(1))
    return names


def _at_word_start(pattern: re.Pattern[bytes], data: bytes) -> bool:
    """Whether `pattern` matches where a word starts. This is what a leading `\\b`
    checks; in the pattern it would make the regex engine try every position."""
    found = pattern.search(data)
    while found is not None:
        if not _word_char_before(data, found.start()):
            return True
        found = pattern.search(data, found.start() + 1)
    return False


def _builds(data: bytes, name: bytes) -> bool:
    """Whether the bytes hold a literal part of `name` joined to a value, as a
    looked-up name is built: `"_to_{`, `"_to_%s"`, `"to_" +` before the value,
    `}_handler"`, `+ "_handler"` after it."""
    return any(
        _joined_before(data, name[: at + 1]) or _joined_after(data, name[at:])
        for at in range(1, len(name) - 1)
        if name[at] == ord("_")
    )


def _joined_before(data: bytes, prefix: bytes) -> bool:
    """`"prefix{`, `"prefix%`, `"prefix" +`: the literal starts a string a value ends."""
    at = data.find(prefix)
    while at >= 0:
        if data[at - 1 : at] in _QUOTES and _VALUE_AFTER.match(data, at + len(prefix)):
            return True
        at = data.find(prefix, at + 1)
    return False


def _joined_after(data: bytes, suffix: bytes) -> bool:
    """`}suffix"`, `+ "suffix"`: the literal ends a string a value starts."""
    at = data.find(suffix)
    while at >= 0:
        end = at + len(suffix)
        if data[end : end + 1] in _QUOTES and (
            data[at - 1 : at] == b"}" or _VALUE_BEFORE.search(data, max(0, at - MAX_LOOKUP), at)
        ):
            return True
        at = data.find(suffix, at + 1)
    return False


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
