"""The terminal decisions, one rule a line."""

from __future__ import annotations

import pytest

from kanban_audit.terminal import paint, plural, use_colour, width, wrap


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
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, True),  # force-color.org: force wins
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
        ({"COLUMNS": "80"}, False, None, 80),
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


def test_paint_and_wrap() -> None:
    assert paint("x", "31", True) == "\x1b[31mx\x1b[0m"
    assert paint("x", "31", False) == "x"
    assert paint("", "31", True) == ""
    assert wrap("short", 10) == ["short"]
    assert wrap("one two three", 7) == ["one two", "three"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]
