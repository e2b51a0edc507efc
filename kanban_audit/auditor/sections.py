"""One report over several boards (--all-boards): a section per board, the worst exit code.

A board that cannot be read is a section with its error, not the end of the
run: the other boards are still audited, and the exit code is 2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kanban_audit import JSON_VERSION, __version__
from kanban_audit.auditor.board import BoardError
from kanban_audit.auditor.discovery import Found
from kanban_audit.errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one board gave: a value, or the one-line error that stopped it."""

    board: Found
    value: T | None = None
    error: str | None = None


def gather(boards: tuple[Found, ...], work: Callable[[Found], T]) -> list[Outcome[T]]:
    """`work` on each board in turn; a board's error is kept and the next board done."""
    done: list[Outcome[T]] = []
    for board in boards:
        try:
            done.append(Outcome(board, value=work(board)))
        except (BoardError, UsageError) as exc:
            done.append(Outcome(board, error=" ".join(str(exc).split())))
    return done


@dataclass(frozen=True)
class Section:
    """One board's part of the report: its exit code, JSON document and text."""

    board: Found
    code: int
    doc: dict[str, Any]
    text: str


def failed(outcome: Outcome[Any]) -> Section:
    """The section of a board that could not be read: exit 2, the error in both forms."""
    doc = {"db": str(outcome.board.path), "error": outcome.error}
    return Section(outcome.board, 2, doc, f"error: {outcome.error}")


def worst(sections: list[Section]) -> int:
    return max((s.code for s in sections), default=0)


def as_json(sections: list[Section]) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "tool_version": __version__,
        "boards": [{"board": s.board.slug, "exit_code": s.code, **s.doc} for s in sections],
        "summary": {
            "boards": len(sections),
            "errors": sum(s.code == 2 for s in sections),
            "exit_code": worst(sections),
        },
    }


def as_text(sections: list[Section]) -> str:
    """Each board under a heading with its name and file, then a line for the whole run."""
    parts = [f"== board {s.board.slug}: {s.board.path}\n{s.text}" for s in sections]
    errors = sum(s.code == 2 for s in sections)
    tail = f"{len(sections)} boards ({errors} unreadable): exit code {worst(sections)}"
    return "\n\n".join(parts) + "\n\n" + tail
