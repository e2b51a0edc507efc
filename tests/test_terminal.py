"""Colour and width follow the terminal and the NO_COLOR / FORCE_COLOR conventions."""

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

from kanban_audit.terminal import use_colour, width


@pytest.fixture
def terminal() -> Iterator[IO[str]]:
    """A real pseudo-terminal, 77 columns wide."""
    controller, device = pty.openpty()
    fcntl.ioctl(device, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 77, 0, 0))
    with os.fdopen(device, "w") as stream:
        yield stream
    os.close(controller)


@pytest.fixture
def file(tmp_path: Path) -> Iterator[IO[str]]:
    with open(tmp_path / "out.txt", "w") as stream:
        yield stream


@pytest.mark.parametrize(
    ("environ", "on_terminal", "on_file"),
    [
        ({}, True, False),
        ({"NO_COLOR": "1"}, False, False),
        ({"NO_COLOR": ""}, True, False),  # set but empty: not a request
        ({"FORCE_COLOR": "1"}, True, True),
        ({"FORCE_COLOR": ""}, True, False),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, False),  # NO_COLOR wins
        ({"TERM": "dumb"}, False, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, True, True),
    ],
)
def test_use_colour(
    terminal: IO[str], file: IO[str], environ: dict, on_terminal: bool, on_file: bool
) -> None:
    assert use_colour(terminal, environ) is on_terminal
    assert use_colour(file, environ) is on_file


def test_width_is_the_terminals_or_columns_and_none_for_a_file(
    terminal: IO[str], file: IO[str]
) -> None:
    assert width(terminal, {}) == 77
    assert width(terminal, {"COLUMNS": "120"}) == 120
    assert width(terminal, {"COLUMNS": "wide"}) == 77
    assert width(file, {"COLUMNS": "120"}) is None


def test_a_closed_or_odd_stream_is_not_a_terminal(tmp_path: Path) -> None:
    stream = open(tmp_path / "x", "w")  # noqa: SIM115
    stream.close()
    assert use_colour(stream, {}) is False and width(stream, {}) is None
    assert use_colour(object(), {}) is False  # type: ignore[arg-type]
