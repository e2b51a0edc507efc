"""The terminal decisions, one rule a line."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import termios
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from kanban_audit.terminal import for_stream, paint, plural, printable, use_colour, width, wrap


@pytest.mark.parametrize(
    ("env", "isatty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": "0"}, True, False),  # any non-empty value
        ({"NO_COLOR": ""}, True, True),  # empty: as if unset
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "0"}, False, True),  # any non-empty value
        ({"FORCE_COLOR": ""}, False, False),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),  # the opt-out wins
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
    ],
)
def test_use_colour(env: dict[str, str], isatty: bool, expected: bool) -> None:
    assert use_colour(env, isatty) is expected


@pytest.mark.parametrize(
    ("env", "isatty", "measured", "expected"),
    [
        ({}, True, 120, 120),
        ({}, False, None, None),  # a file or a pipe: whole lines
        ({"COLUMNS": "80"}, False, None, None),  # a pipe stays whole, COLUMNS or not
        ({"COLUMNS": "80"}, True, 120, 80),
        ({"COLUMNS": "0"}, True, 120, 120),
        ({"COLUMNS": "wide"}, False, None, None),
        ({"COLUMNS": "-5"}, True, 100, 100),
        ({}, True, 0, None),  # a terminal that reports no size
    ],
)
def test_width(env: dict[str, str], isatty: bool, measured: int | None, expected: int) -> None:
    assert width(env, isatty, measured) == expected


def test_plural() -> None:
    assert [plural(n, "finding") for n in (0, 1, 2)] == ["0 findings", "1 finding", "2 findings"]
    assert plural(1, "open run") == "1 open run"
    assert plural(3, "entry", "entries") == "3 entries"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain id-1 é 中 \\ ' \"", "plain id-1 é 中 \\ ' \""),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07"),
        ("\x00\x1f\x7f", "\\x00\\x1f\\x7f"),
        ("\x85\x9b\x9f\xa0", "\\u0085\\u009b\\u009f\xa0"),
        ("a\u2028b\u2029", "a\\u2028b\\u2029"),
    ],
)
def test_printable_escapes_every_control_character(text: str, expected: str) -> None:
    assert printable(text) == expected


def test_printable_keeps_every_other_character() -> None:
    controls = {*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029}
    for code in range(0x30000):
        if code not in controls and not 0xD800 <= code < 0xE000:
            assert printable(chr(code)) == chr(code)
        elif code in controls:
            assert printable(chr(code)).startswith("\\") and printable(chr(code)).isprintable()


def test_paint_and_wrap() -> None:
    assert paint("x", "31", True) == "\x1b[31mx\x1b[0m"
    assert paint("x", "31", False) == "x"
    assert paint("", "31", True) == ""
    assert wrap("short", 10) == ["short"]
    assert wrap("one two three", 7) == ["one two", "three"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]


@pytest.fixture
def terminal() -> Iterator[IO[str]]:
    """A real pseudo-terminal, 77 columns wide."""
    controller, device = pty.openpty()
    fcntl.ioctl(device, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 77, 0, 0))
    with os.fdopen(device, "w") as stream:
        yield stream
    os.close(controller)


def test_a_real_terminal_is_measured(terminal: IO[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    assert for_stream(terminal).width == 77 and for_stream(terminal).colour


def test_a_closed_or_odd_stream_is_not_a_terminal(tmp_path: Path) -> None:
    stream = open(tmp_path / "x", "w")  # noqa: SIM115
    stream.close()
    assert for_stream(stream).colour is False
    assert for_stream(object()).width is None  # type: ignore[arg-type]
