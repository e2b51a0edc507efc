"""Output for people: whether to colour, how wide to be, whether a person can answer.

Every decision here is a pure function of the environment and of what the
caller measured (is this stream a terminal, how wide is it), so the commands
agree with each other and tests can state each rule in one line:

- colour only on a terminal, never with `NO_COLOR` set (https://no-color.org;
  the user's opt-out wins, as in CPython's own rule), otherwise always with
  `FORCE_COLOR` set (https://force-color.org), never on a `TERM=dumb` terminal;
- a width only on a terminal (`COLUMNS` there, else its size): output that
  goes to a file or a pipe stays whole, whatever `COLUMNS` says, so scripts,
  `grep` and logs see every character;
- a question only when stdin is a terminal: with nobody there to answer, a
  write that needs a "yes" is refused, never assumed (like package managers);
- nothing read from the analysed tree or a board reaches a text output with
  its control characters (`printable`): a name holding a newline or an escape
  sequence cannot forge a line, drive the terminal or issue a CI command.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

ASK = "ask"
PROCEED = "proceed"
REFUSE = "refuse"

# SGR codes for `paint`.
BOLD = "1"
RED = "31"
GREEN = "32"
YELLOW = "33"


@dataclass(frozen=True)
class Style:
    """How one stream's text is rendered: coloured or plain, fitted to a width or whole."""

    colour: bool = False
    width: int | None = None


def style(env: Mapping[str, str], isatty: bool, measured: int | None) -> Style:
    """The style for a stream, from the environment and what was measured on it."""
    return Style(use_colour(env, isatty), width(env, isatty, measured))


def for_stream(stream: TextIO) -> Style:
    """The one impure edge: measure a real stream, then decide with `style`."""
    try:
        isatty = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        isatty = False
    try:
        measured = os.get_terminal_size(stream.fileno()).columns if isatty else None
    except (OSError, ValueError):
        measured = None
    return style(os.environ, isatty, measured)


def use_colour(env: Mapping[str, str], isatty: bool) -> bool:
    """Whether to add ANSI colour to a stream (`isatty`: the stream is a terminal)."""
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return isatty and env.get("TERM") != "dumb"


def width(env: Mapping[str, str], isatty: bool, measured: int | None) -> int | None:
    """The width to fit text to, or None for unlimited.

    Only a terminal has one: `COLUMNS` (a positive integer) if set, else its
    measured width. A file or a pipe gets the full lines.
    """
    if not isatty:
        return None
    columns = env.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return measured or None


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 finding`, `2 findings`; `many` for irregular plurals."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def confirmation(yes: bool, stdin_isatty: bool) -> str:
    """Whether a write that needs a "yes" may go ahead: PROCEED, ASK or REFUSE.

    `--yes` proceeds; a terminal on stdin is asked (whatever stdout is: a
    `| tee log` must not skip the question); anything else is refused.
    """
    if yes:
        return PROCEED
    return ASK if stdin_isatty else REFUSE


def paint(text: str, sgr: str, on: bool) -> str:
    """`text` in an ANSI colour when `on`; unchanged otherwise (and when empty)."""
    return f"\x1b[{sgr}m{text}\x1b[0m" if on and text else text


def wrap(text: str, columns: int) -> list[str]:
    """`text` in lines of at most `columns` characters (long words are cut); never empty."""
    if len(text) <= columns:
        return [text]
    return textwrap.wrap(text, columns, break_on_hyphens=False) or [""]


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}")


# C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators:
# everything that can move a terminal's cursor, start an escape sequence or end a line.
_TABLE = str.maketrans(
    {chr(c): _escape(chr(c)) for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)}
)


def printable(text: str) -> str:
    """`text` safe to print: every control character escaped (`\\n`, `\\x1b`, `\\u009b`).

    Values read from a board or a tree are data: printed raw, an escape
    sequence would clear the screen or retitle the window, and a newline would
    forge a line of the report. Every other character stays as it is.
    """
    return text.translate(_TABLE)
