"""A board named through a symlink is the file behind the link.

SQLite keeps the `-wal` and `-shm` files beside the file it opens, the link's
target. Every command resolves the path once and uses the real path for the
open, every sidecar check and the backup's name and folder: judged by the
link's name, a live WAL looks absent and the audit's close deletes it under a
Hermes 0.15+ process that has lost its lock (see test_file_lock.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hermes_boards import Board, commands_beside_hermes
from support.cli import run_cli
from support.db import rows


def _link(board: Board, kind: str, folder: Path) -> Path:
    """A link of `kind` to the board's file, made in `folder` (beside the board for
    `relative`)."""
    folder.mkdir()
    if kind == "absolute":
        link = folder / "link.db"
        link.symlink_to(board.db)
    elif kind == "relative":
        link = board.home / "link.db"
        link.symlink_to(board.db.name)
    elif kind == "relative-other-folder":
        link = folder / "link.db"
        link.symlink_to(os.path.relpath(board.db, folder))
    else:  # a link to a link, each in its own folder
        (folder / "hop").mkdir()
        (folder / "hop" / "first.db").symlink_to(board.db)
        link = folder / "second.db"
        link.symlink_to(folder / "hop" / "first.db")
    return link


def _names(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("kind", ["absolute", "relative", "relative-other-folder", "chain"])
@pytest.mark.parametrize("version", ["0.15.0", "0.19.0"])
def test_every_command_through_a_link_leaves_the_wal_to_hermes(
    board: Board, version: str, kind: str, tmp_path: Path
) -> None:
    """Hermes holds the board open (its lock lost) while audit, repair --apply,
    guard install and guard remove run through a link: the WAL stays, Hermes
    writes on, the board is whole, and the backup sits beside the real board."""
    elsewhere = tmp_path / "elsewhere"
    link = _link(board, kind, elsewhere)
    links_before = _names(elsewhere)
    commands_beside_hermes(board, version, link)
    (backup,) = board.home.glob("kanban.db.*.bak")
    assert rows(backup, "SELECT status FROM tasks WHERE id = ?", board.ids["orphan"]) == [
        ("running",)
    ]
    assert _names(elsewhere) == links_before  # nothing made beside the links
    assert sorted(p.name for p in board.home.glob("link.db*")) == (
        ["link.db"] if kind == "relative" else []
    )


@pytest.mark.parametrize("version", ["0.19.0"])
def test_the_report_names_the_file_behind_the_link(
    board: Board, version: str, tmp_path: Path
) -> None:
    """The audit says which file it read: the link's target."""
    link = _link(board, "chain", tmp_path / "elsewhere")
    done = run_cli("audit", link, "--format", "json")
    assert done.returncode == 1, done.stderr
    assert f'"db":"{os.path.realpath(board.db)}"' in done.stdout
