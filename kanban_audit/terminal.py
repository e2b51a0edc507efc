"""Whether output goes to a person's terminal: colour on or off, and its width.

Both read only what they are given (the stream, and the environment, which
defaults to the process's), so the rule is easy to test and to follow.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO


def use_colour(stream: IO[str], environ: Mapping[str, str] = os.environ) -> bool:
    """Colour for `stream`: NO_COLOR (set and not empty) turns it off, FORCE_COLOR turns it on.

    Otherwise only on a terminal, and not a `TERM=dumb` one. The same order as
    CPython's own rule (no-color.org and force-color.org conventions).
    """
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    return _is_terminal(stream)


def width(stream: IO[str], environ: Mapping[str, str] = os.environ) -> int | None:
    """The columns a line on `stream` may take, or None when it is not a terminal.

    A file or a pipe has no width, whatever COLUMNS says (wrapping would break
    `grep`); on a terminal COLUMNS, when set, wins over the terminal's size.
    """
    if not _is_terminal(stream):
        return None
    columns = environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (OSError, ValueError):
        return None


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
