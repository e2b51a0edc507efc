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
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

ASK = "ask"
PROCEED = "proceed"
REFUSE = "refuse"

# C0 controls, DEL and C1 controls: what a terminal or a log parser acts on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

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


def printable(text: str) -> str:
    """`text` with every C0/C1 control character and DEL escaped (`\\n`, `\\x1b`,
    `\\u009b`); every other character stays as it is.

    For text outputs (terminal, logs, CI annotations) of values that come from
    outside: a newline there forges a line, an escape sequence drives the terminal.
    """
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}")
