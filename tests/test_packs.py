"""Packs for other boards: a minimal pack is enough for the lint, and a command that
needs more says what in one line. The page that walks through writing one
(docs/packs.md) shows the example's real code and the commands' real output."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from support import boards
from support.cli import KANBAN_AUDIT, run_cli
from support.db import listing

import kanban_audit

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "packs.md"
EXAMPLE = REPO / "examples" / "job_queue"
MINIMAL = '[tasks]\ntable = "app_jobs"\nstatus = "state"\nguarded = "active"\n'
SCHEMA = """\
CREATE TABLE app_jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL, locked_by TEXT,
                       locked_until INTEGER, payload TEXT);
INSERT INTO app_jobs VALUES (1, 'queued', NULL, NULL, '{}'), (2, 'active', NULL, NULL, '{}');
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The page's working folder: the examples, `minimal.toml` and the jobs board."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "minimal.toml").write_text(MINIMAL)
    boards.create(tmp_path / "jobs.db", wal=False, schema=SCHEMA).close()
    return tmp_path


def test_the_page_shows_the_example_code() -> None:
    shown = re.search(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert shown is not None
    assert shown.group(1) == (EXAMPLE / "queue.py").read_text()


def test_the_page_shows_what_the_board_commands_print(project: Path) -> None:
    """The plain blocks of board commands (test_docs.py replays the lint's)."""
    blocks = "".join(re.findall(r"```\n(\$ kanban-audit .*?)```", PAGE.read_text(), re.S))
    parts = re.split(r"^\$ (.*)\n", blocks, flags=re.M)[1:]
    sessions = list(zip(parts[0::2], parts[1::2], strict=True))
    assert len(sessions) == 3
    for command, expected in sessions:
        argv = shlex.split(command)
        done = subprocess.run(
            [str(KANBAN_AUDIT), *argv[1:]],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        assert done.stdout == expected, command


def test_a_minimal_pack_is_enough_for_the_lint(project: Path) -> None:
    (project / "queue.py").write_text((EXAMPLE / "queue.py").read_text())
    done = run_cli("lint", "--rules", "minimal.toml", "--format", "json", "queue.py", cwd=project)
    assert done.returncode == 1, done.stderr
    assert '"code": "KA001"' in done.stdout  # nothing sanctioned: the claim is a finding


@pytest.mark.parametrize("command", [["audit"], ["repair"], ["repair", "--apply", "--yes"]])
def test_a_pack_without_the_claim_columns_is_refused_in_one_line(
    project: Path, command: list[str]
) -> None:
    before = listing(project)
    done = run_cli(*command, "jobs.db", "--rules", "minimal.toml", cwd=project)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"kanban-audit: error: rule pack minimal.toml: {command[0]} needs the claim columns"
        " and repair state: add claim_lock, claim_expires, repair_to to [tasks]"
        " (the lint does not)\n"
    )
    assert listing(project) == before


@pytest.mark.parametrize("command", [["audit"], ["guard", "status"], ["guard", "install", "--yes"]])
def test_a_table_pattern_is_refused_where_a_board_is_read(project: Path, command: list[str]):
    before = listing(project)
    done = run_cli(*command, "jobs.db", "--rules", "examples/job_queue/jobs.toml", cwd=project)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "needs the exact name of the tasks table, not the pattern '*jobs'" in done.stderr
    assert listing(project) == before


def test_the_library_refuses_the_same_way(project: Path) -> None:
    with pytest.raises(kanban_audit.KanbanAuditError, match="add claim_lock"):
        kanban_audit.audit(project / "jobs.db", pack=project / "minimal.toml")
    with pytest.raises(kanban_audit.KanbanAuditError, match="add claim_lock"):
        kanban_audit.repair(project / "jobs.db", pack=project / "minimal.toml")


def test_the_full_example_pack_audits_the_board(project: Path) -> None:
    done = run_cli("audit", "jobs.db", "--rules", "examples/job_queue/board.toml", cwd=project)
    assert done.returncode == 1, done.stderr
    assert "KD002" in done.stdout
    # The summary counts tasks in the pack's guarded state, by its name.
    assert "jobs.db: 1 active, 0 open runs" in done.stdout
