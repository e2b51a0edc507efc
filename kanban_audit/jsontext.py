"""JSON text every parser reads: strict (no NaN or Infinity), whatever values it carries.

A board is input, and SQLite stores what it is given: a REAL column can hold
an infinity or a NaN and any column a BLOB. Python's encoder would write the
first as the bare tokens `Infinity` and `NaN`, which are not JSON, and refuse
the second. Here a non-finite float becomes the string `"Infinity"`,
`"-Infinity"` or `"NaN"` (what JavaScript's `Number()` and Python's `float()`
read back) and a BLOB the string `"x'<hex>'"` (SQLite's own literal for it).
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any


def blob(value: bytes) -> str:
    """A BLOB as SQLite writes it literally: `x'0102'`."""
    return f"x'{value.hex()}'"


def plain(value: Any) -> Any:
    """`value` with every non-finite float and BLOB replaced by its string, at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return blob(bytes(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return blob(bytes(value))
    return str(value)


def dumps(doc: Any) -> str:
    """Compact, strict JSON text; other objects (paths) as their text.

    The C encoder runs first; only a document that holds a non-finite float
    is copied with `plain` and encoded again, so large reports stay fast.
    """
    encode = functools.partial(json.dumps, allow_nan=False, default=_default, separators=(",", ":"))
    try:
        return encode(doc)
    except ValueError:
        return encode(plain(doc))
