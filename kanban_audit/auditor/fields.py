"""What each value read from a board must be before the audit may judge it.

SQLite stores whatever it is given, whatever a column's declared type: a
worker PID of 2**31 or infinity, a BLOB as a task id, text as a run id. Each
value the checks use is checked here against its role as it is read; a value
that fails is evidence about its task (reported with the value and why,
never repaired on), never a crash and never a guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from kanban_audit import jsontext

# The largest PID a process can have (Linux's pid_t is a signed 32-bit int).
PID_MAX = 2**31 - 1
# The end of the year 9999 in milliseconds: no clock a board keeps goes further.
MAX_TIME = 253402300799999
# How much of an odd value its reason quotes (the evidence keeps all of it).
QUOTED = 60


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _time(value: Any) -> bool:
    """A time: seconds or milliseconds since the epoch, from 1970 to the year 9999."""
    number = _integer(value) or (isinstance(value, float) and math.isfinite(value))
    return number and 0 <= value <= MAX_TIME


def key(value: Any) -> bool:
    """A task id: text or an integer (what SQLite can look up and repair compares)."""
    return isinstance(value, str) or _integer(value)


def run_id(value: Any) -> bool:
    """A run id: an integer (the run table's rowid)."""
    return _integer(value)


# Each role: whether a value fits it, and what the role wants (for the reason).
Kind = tuple[Callable[[Any], bool], str]

KEY: Kind = (key, "a task id (text or an integer)")
RUN_ID: Kind = (run_id, "a run id (an integer)")
RUN_REF: Kind = (lambda v: v is None or v == "" or run_id(v), "a run id (an integer) or empty")
TEXT: Kind = (lambda v: v is None or isinstance(v, str), "text or empty")
STATUS: Kind = (lambda v: isinstance(v, str), "a status (text)")
TIME: Kind = (lambda v: v is None or _time(v), "a time (1970 to 9999) or empty")
CLAIM_TIME: Kind = (lambda v: v is None or v == "" or _time(v), "a time (1970 to 9999) or empty")
PID: Kind = (
    lambda v: v is None or (_integer(v) and 0 < v <= PID_MAX),
    f"a PID (1 to {PID_MAX}) or empty",
)


def quoted(value: Any) -> str:
    """A short, printable quotation of a board value (BLOBs as SQLite literals)."""
    text = jsontext.blob(value) if isinstance(value, bytes) else repr(value)
    return text if len(text) <= QUOTED else f"{text[:QUOTED]}... ({len(text)} characters)"


def problems(row: Mapping[str, Any], kinds: Mapping[str, Kind], prefix: str = "") -> dict[str, str]:
    """Each column of `row` whose value does not fit its kind, with why (`prefix` names the row)."""
    out = {}
    for column, (fits, wanted) in kinds.items():
        if column in row and not fits(row[column]):
            out[f"{prefix}{column}"] = f"{quoted(row[column])} is not {wanted}"
    return out
