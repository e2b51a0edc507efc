"""The cache never writes through a link, nor in a folder someone else controls.

A pull request can commit `.kanban-audit-cache/` holding links: the store, or
SQLite's journal beside it, pointing at a file elsewhere (an empty
`__init__.py` would become a database), a dangling link (SQLite would create
its target), or the whole folder as a link. Each is one warning, a run without
the cache, the same findings, and not one byte written outside the tree.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import run_cli

WRITE = "def f(conn):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"
FINDING = "api.py:2:5: KA001 "


def lint(root: Path, home: Path) -> tuple[int, str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(home)}
    done = run_cli("lint", cwd=root, env=env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def digest(folder: Path) -> dict[str, str]:
    """Every entry under `folder`, links as links."""
    state = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            state[str(path)] = "-> " + os.readlink(path)
        elif path.is_file():
            state[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[str(path)] = "dir"
    return state


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The project, a folder outside it that a link may name, and this user's cache home."""
    root, outside, home = tmp_path / "project", tmp_path / "outside", tmp_path / "home"
    for folder in (root, outside, home):
        folder.mkdir()
    (root / "api.py").write_text(WRITE)
    (outside / "__init__.py").write_text("")
    return root, outside, home


def _store_to_file(root: Path, outside: Path) -> None:
    (root / ".kanban-audit-cache").mkdir()
    (root / ".kanban-audit-cache" / "summaries.sqlite3").symlink_to(outside / "__init__.py")


def _store_dangling(root: Path, outside: Path) -> None:
    (root / ".kanban-audit-cache").mkdir()
    (root / ".kanban-audit-cache" / "summaries.sqlite3").symlink_to(outside / "made.db")


def _folder_link(root: Path, outside: Path) -> None:
    (root / ".kanban-audit-cache").symlink_to(outside)


def _journal_link(root: Path, outside: Path) -> None:
    (root / ".kanban-audit-cache").mkdir()
    (root / ".kanban-audit-cache" / "summaries.sqlite3-journal").symlink_to(outside / "__init__.py")


def _hard_link(root: Path, outside: Path) -> None:
    (root / ".kanban-audit-cache").mkdir()
    os.link(outside / "__init__.py", root / ".kanban-audit-cache" / "summaries.sqlite3")


def _shared_folder(root: Path, outside: Path) -> None:
    (root / ".kanban-audit-cache").mkdir()
    os.chmod(root / ".kanban-audit-cache", 0o777)


@pytest.mark.parametrize(
    ("plant", "why"),
    [
        pytest.param(_store_to_file, "summaries.sqlite3 is a symbolic link", id="store-to-a-file"),
        pytest.param(_store_dangling, "summaries.sqlite3 is a symbolic link", id="store-dangles"),
        pytest.param(_folder_link, ".kanban-audit-cache is a symbolic link", id="folder-link"),
        pytest.param(_journal_link, "summaries.sqlite3-journal is a symbolic link", id="journal"),
        pytest.param(_hard_link, "summaries.sqlite3 has other names (hard links)", id="hard-link"),
        pytest.param(_shared_folder, ".kanban-audit-cache is writable by other users", id="shared"),
    ],
)
def test_a_hostile_cache_folder_is_one_warning_and_no_write(
    places: tuple[Path, Path, Path], plant: Callable[[Path, Path], None], why: str
) -> None:
    root, outside, home = places
    plant(root, outside)
    before = digest(outside), digest(root)
    for _ in range(2):  # the second run would read what the first wrote
        code, out, err = lint(root, home)
        assert code == 1 and out.startswith(FINDING), out
        (line,) = err.splitlines()
        assert line.startswith("kanban-audit: warning: not using the cache: ") and line.endswith(
            why
        )
    assert (digest(outside), digest(root)) == before


def test_a_journal_link_planted_beside_a_working_cache_is_never_written_through(
    places: tuple[Path, Path, Path],
) -> None:
    root, outside, home = places
    assert lint(root, home)[2] == ""  # a cache of this user's, in use
    (root / ".kanban-audit-cache" / "summaries.sqlite3-journal").symlink_to(outside / "__init__.py")
    (root / "api.py").write_text(WRITE + "\n\ndef g():\n    return 1\n")  # something to store
    code, out, err = lint(root, home)
    assert code == 1 and out.startswith(FINDING)
    assert err.endswith("summaries.sqlite3-journal is a symbolic link\n")
    assert (outside / "__init__.py").read_bytes() == b""


def test_the_key_is_never_made_through_a_link(places: tuple[Path, Path, Path]) -> None:
    root, outside, home = places
    (home / "kanban-audit").symlink_to(outside)
    code, out, err = lint(root, home)
    assert code == 1 and out.startswith(FINDING)
    assert err == (
        f"kanban-audit: warning: cannot read or make the cache's key"
        f" {home / 'kanban-audit' / 'secret'}: no cache\n"
    )
    assert sorted(p.name for p in outside.iterdir()) == ["__init__.py"]
    assert not (root / ".kanban-audit-cache").exists()
