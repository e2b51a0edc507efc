"""Finding boards from the command line: --all-boards, --help, conflicting names."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from support import boards
from support.cli import run_cli

import kanban_audit


def _env(**variables: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    return {**clean, **variables}


def _root(tmp_path: Path) -> Path:
    """A root with a clean default board and an `ops` board holding a dashboard orphan."""
    root = tmp_path / "root"
    root.mkdir()
    boards.create(root / "kanban.db").close()
    ops = root / "kanban" / "boards" / "ops" / "kanban.db"
    ops.parent.mkdir(parents=True)
    conn = boards.create(ops)
    boards.direct_write(conn, "t1", int(time.time()))
    conn.close()
    return root


@pytest.mark.parametrize("command", ["audit", "repair"])
def test_help_names_the_variables(command: str) -> None:
    out = run_cli(command, "--help").stdout
    for name in ("HERMES_KANBAN_DB", "HERMES_KANBAN_HOME", "HERMES_HOME", "HERMES_KANBAN_BOARD"):
        assert f"${name}" in out
    assert "--all-boards" in out


def test_all_boards_text_is_one_report_with_the_worst_exit_code(tmp_path: Path) -> None:
    root = _root(tmp_path)
    proc = run_cli("audit", "--all-boards", env=_env(HERMES_KANBAN_HOME=str(root)))
    assert proc.returncode == 1, proc.stderr
    heads = [line for line in proc.stdout.splitlines() if line.startswith("== board ")]
    ops = root / "kanban" / "boards" / "ops" / "kanban.db"
    assert heads == [f"== board default: {root / 'kanban.db'}", f"== board ops: {ops}"]
    assert proc.stdout.rstrip().endswith("2 boards (0 unreadable): exit code 1")
    assert proc.stderr == ""


def test_all_boards_of_a_folder_and_its_dry_run_repair(tmp_path: Path) -> None:
    root = _root(tmp_path)
    files = sorted(root.rglob("kanban.db"))
    before = [boards.board_hash(f) for f in files]
    proc = run_cli("repair", root, "--all-boards", env=_env())
    assert proc.returncode == 1
    assert "dry run: 1 repair planned; --apply to write" in proc.stdout
    assert "nothing to repair" in proc.stdout
    assert [boards.board_hash(f) for f in files] == before
    assert not list(root.rglob("*.bak"))


@pytest.mark.parametrize(
    ("args", "variables", "message"),
    [
        (["--all-boards", "--board", "ops"], {}, "--all-boards and --board"),
        (["--board", "ops"], {"HERMES_KANBAN_DB": "{root}/kanban.db"}, "pins the board"),
        (["--all-boards", "{root}/kanban.db"], {}, "needs a board root folder"),
        (["--all-boards"], {"HERMES_KANBAN_HOME": "{root}/kanban"}, "no boards under"),
        (["--board", "-x"], {}, "invalid board name"),
    ],
)
def test_conflicting_or_empty_names_exit_2(
    args: list[str], variables: dict[str, str], message: str, tmp_path: Path
) -> None:
    root = _root(tmp_path)
    before = boards.listing(tmp_path)
    env = _env(**{"HERMES_KANBAN_HOME": str(root), **variables})
    env = {k: v.format(root=root) for k, v in env.items()}
    proc = run_cli("audit", *(a.format(root=root) for a in args), env=env)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert boards.listing(tmp_path) == before


def test_the_library_lists_the_boards_and_audits_each(tmp_path: Path) -> None:
    root = _root(tmp_path)
    found = kanban_audit.boards(root)
    assert [(b.slug, b.path) for b in found] == [
        ("default", root / "kanban.db"),
        ("ops", root / "kanban" / "boards" / "ops" / "kanban.db"),
    ]
    assert [len(kanban_audit.audit(b).findings) for b in found] == [0, 1]
