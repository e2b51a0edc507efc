"""A table name partly built from values not known here, against the pack's table.

`f"UPDATE ack_queue_{name} SET ..."` names a table whose name starts with
`ack_queue_`; the pack names its table exactly (`tasks`) or by a glob
(`ack_*`). Each part not known here may be any text, so the name is itself a
glob, and the question is how two globs meet: every name it can be is the
pack's table (the write is judged as a write of the table), some may be (the
table is not known here: KA002 "table unknown" unless the value rules the
guarded state out), or none can be (another table: no write of the board).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import cache, lru_cache

from kanban_audit.linter.sqltokens import HOLE_OPEN

EVERY, SOME, NONE = "every", "some", "none"
# Two texts no pattern of a pack holds: a part not known here, filled in.
_FILLS = ("", "\x02\x03")
# Longer names are not compared character by character: some may be the table.
MAX_COMPARED = 256


@lru_cache(maxsize=4096)  # the same names are judged at every write that names them
def judge(template: str, table: str) -> str:
    """How the names `template` can be (HOLE_OPEN: any text) meet the pack's `table`."""
    if HOLE_OPEN not in template:
        return EVERY if fnmatchcase(template, table) else NONE
    if all(fnmatchcase(template.replace(HOLE_OPEN, fill), table) for fill in _FILLS):
        return EVERY
    return SOME if _meet(template.replace(HOLE_OPEN, "*"), table) else NONE


def shown(template: str) -> str:
    """The name as a reader sees it: `ack_queue_…`."""
    return template.replace(HOLE_OPEN, "…")


def _meet(first: str, second: str) -> bool:
    """Whether some text matches both globs (`*` any run, `?` or `[...]` one character)."""
    a, b = _atoms(first), _atoms(second)
    if len(a) + len(b) > MAX_COMPARED:
        return True

    @cache
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            return meet(i + 1, j) or (j < len(b) and meet(i, j + 1))
        if j < len(b) and b[j] == "*":
            return meet(i, j + 1) or (i < len(a) and meet(i + 1, j))
        if i == len(a) or j == len(b):
            return False
        one = a[i] == "?" or b[j] == "?" or a[i] == b[j]
        return one and meet(i + 1, j + 1)

    return meet(0, 0)


def _atoms(pattern: str) -> tuple[str, ...]:
    """A glob as `*`, `?` (a character class counts as any one character) and characters."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[" and "]" in pattern[i + 2 :]:
            out.append("?")
            i = pattern.index("]", i + 2) + 1
            continue
        if not (char == "*" and out and out[-1] == "*"):
            out.append(char)
        i += 1
    return tuple(out)
