"""The pre-filter's ORM seeds: files that may write the tasks model's status field.

An ORM write names neither the table nor SQL: it names the model, or assigns
the field on an object whose class may not be known. So when some file may
define the tasks model (a class the pack's `model` names, a mapping naming
the table: `__tablename__`, `db_table`, `table_name`, or a class named as the
table's default name), the seeds are every file that names such a class, assigns
the status field or passes it by keyword, calls `setattr`, or calls an ORM write
method (orm.py). A program with no such class has no ORM seeds (nor ORM writes:
solve/sinks.py reads them only when the program has a tasks model).
"""

from __future__ import annotations

import re

from kanban_audit.linter import orm
from kanban_audit.rulepack import TasksSection

# A class statement (`subclass Foo` in a comment matches too: a seed more, never less).
_CLASS = re.compile(rb"class\s+(\w+)")
_MAPPING_NEEDLES = (b"__tablename__", b"db_table", b"table_name")
_MAPPING_KEYS = rb"(?:__tablename__|db_table|table_name)"


def orm_seeds(contents: dict[str, bytes], tasks: TasksSection) -> set[str]:
    """The files that may write the tasks model (none when no file may define it)."""
    names = model_names(contents, tasks)
    if not names:
        return set()
    status = re.escape(tasks.status.encode())
    methods = b"|".join(re.escape(m.encode()) for m in orm.WRITE_METHODS)
    writes = re.compile(
        rb"\b(?:"
        + b"|".join(re.escape(n) for n in sorted(names))
        + rb")\b|\.\s*"
        + status
        + rb"\s*=(?!=)|\b"
        + status
        + rb"\s*=(?!=)|\bsetattr\s*\(|\.\s*(?:"
        + methods
        + rb")\s*\("
    )
    return {display for display, data in contents.items() if writes.search(data)}


def model_names(contents: dict[str, bytes], tasks: TasksSection) -> set[bytes]:
    """Names of the classes that may be the tasks model, read from the bytes."""
    if tasks.model:
        pattern = re.escape(tasks.model.rsplit(".", 1)[-1]).replace(r"\*", r"\w*")
        pattern = pattern.replace(r"\?", r"\w")
        named = re.compile(rb"\bclass\s+(" + pattern.encode() + rb")\b")
        return {m.group(1) for data in contents.values() for m in named.finditer(data)}
    if not tasks.table:
        return set()
    table = re.escape(tasks.table_text.encode())
    mapping = re.compile(_MAPPING_KEYS + rb"\s*=\s*[rRuU]?[\"'][^\"'\n]*" + table, re.IGNORECASE)
    tails = _default_names(tasks.table)
    # A class named as the table's default name, in any case: one scan of each file
    # (spelled out, `[tT]`: a case-blind pattern loses the literal search and is slower).
    spelled = (_any_case(tail) for tail in sorted(tails))
    named = re.compile(rb"class\s+(" + b"|".join(spelled) + rb")\b")
    names: set[bytes] = set()
    for data in contents.values():
        # Literal finds first: a regex over every byte of every file costs more.
        keyed = any(key in data for key in _MAPPING_NEEDLES)
        if keyed and mapping.search(data):
            names |= {m.group(1) for m in _CLASS.finditer(data)} - {b"Meta"}
        if tails:
            names |= {m.group(1) for m in named.finditer(data)}
    return names


def _any_case(word: bytes) -> bytes:
    """A pattern matching `word` in any case."""
    return b"".join(
        b"[%c%c]" % (c, c ^ 0x20) if bytes([c]).isalpha() else re.escape(bytes([c])) for c in word
    )


def _default_names(table: str) -> set[bytes]:
    """Class names (lower case) whose default table name may be the table: the name
    (SQLModel, peewee), without its underscores (peewee's snake case), or after an
    underscore (Django's `<app_label>_<model>`). A pattern's wildcards match nothing."""
    words = table.lower()
    tails = {words, words.replace("_", "")}
    tails |= {words[i + 1 :] for i, c in enumerate(words) if c == "_"}
    return {t.encode() for t in tails if t and re.fullmatch(r"\w+", t)}
