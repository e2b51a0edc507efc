"""Text output for people: colour on a terminal only, --quiet, --statistics, plurals,
and a warning when there is nothing to analyse."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from support.cli import run_cli
from support.tty import run_tty

from kanban_audit.codes import CODES

from .harness import service

ESC = "\x1b["
ONE = "def f(conn):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"


@pytest.fixture
def buggy(tmp_path: Path) -> Path:
    return service(tmp_path / "svc")


def on_terminal(cwd: Path, *args: str, **environ: str) -> str:
    """stdout of the installed command when it is a real (pseudo-)terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    run = run_tty(
        *args, stdin=False, stderr=False, env={**env, "TERM": "xterm", **environ}, cwd=cwd
    )
    return run.tty


def test_colour_on_a_terminal_only(buggy: Path) -> None:
    coloured = on_terminal(buggy, "lint", "--no-cache")
    assert f"{ESC}31m{ESC}1mKA001{ESC}0m" in coloured
    assert f"{ESC}1mboard/api.py{ESC}0m:18:9: " in coloured
    assert ESC not in on_terminal(buggy, "lint", "--no-cache", NO_COLOR="1")
    piped = run_cli("lint", "--no-cache", cwd=buggy)
    assert ESC not in piped.stdout and piped.stdout.startswith("board/api.py:18:9: KA001 ")
    forced = run_cli("lint", "--no-cache", cwd=buggy, env={**os.environ, "FORCE_COLOR": "1"})
    assert f"{ESC}31m{ESC}1mKA001{ESC}0m" in forced.stdout
    (buggy / "clean.py").write_text("X = 1\n")
    assert f"{ESC}32m{ESC}1mAll checks passed.{ESC}0m" in on_terminal(buggy, "lint", "clean.py")


def test_colour_never_goes_into_a_file_or_a_machine_format(buggy: Path) -> None:
    env = {**os.environ, "FORCE_COLOR": "1"}
    run_cli("lint", "--no-cache", "-o", "report.txt", cwd=buggy, env=env)
    assert ESC not in (buggy / "report.txt").read_text()
    for fmt in ("json", "sarif", "github"):
        assert ESC not in run_cli("lint", "--no-cache", "--format", fmt, cwd=buggy, env=env).stdout


def test_quiet_prints_only_the_findings(buggy: Path) -> None:
    loud = run_cli("lint", "--no-cache", cwd=buggy)
    quiet = run_cli("lint", "--no-cache", "-q", cwd=buggy)
    assert quiet.returncode == loud.returncode == 1
    assert quiet.stdout == loud.stdout.removesuffix("Found 2 findings (KA001: 2).\n")
    assert "KA001" in quiet.stdout and quiet.stderr == ""
    (buggy / "clean.py").write_text("X = 1\n")
    clean = run_cli("lint", "--no-cache", "--quiet", "clean.py", cwd=buggy)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")


def test_statistics_count_findings_per_code_with_their_names(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(ONE + ONE.replace("f(", "g("))
    (tmp_path / "b.py").write_text(
        "def h(conn, s):\n    conn.execute('UPDATE tasks SET status = ?', (s,))\n"
    )
    (tmp_path / "c.py").write_text("def k(:\n    conn.execute('UPDATE tasks SET status = 1')\n")
    done = run_cli("lint", "--no-cache", "--statistics", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == textwrap.dedent(
        """\
        2  KA001  running-outside-claim
        1  KA002  unchecked-status-write
        c.py:1:7: error: syntax error: invalid syntax
        Found 3 findings (KA001: 2, KA002: 1); 1 file could not be analysed.
        """
    )
    quiet = run_cli("lint", "--no-cache", "--statistics", "-q", "a.py", cwd=tmp_path)
    assert quiet.stdout == "2  KA001  running-outside-claim\n"


def test_counts_are_singular_when_they_are_one(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(ONE)
    (tmp_path / "c.py").write_text("def k(:\n    conn.execute('UPDATE tasks SET status = 1')\n")
    done = run_cli("lint", "--no-cache", cwd=tmp_path)
    assert done.stdout.splitlines()[-1] == (
        "Found 1 finding (KA001: 1); 1 file could not be analysed."
    )
    wrote = run_cli("lint", "--no-cache", "--write-baseline", "b.json", "a.py", cwd=tmp_path)
    assert wrote.stderr == "Wrote 1 finding to b.json\n"


def test_a_folder_without_python_files_warns_and_passes(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# nothing to lint\n")
    done = run_cli("lint", "docs", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stderr == "kanban-audit: warning: no Python files found in docs\n"
    assert done.stdout == "All checks passed.\n"
    quiet = run_cli("lint", "-q", "docs", cwd=tmp_path)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    excluded = run_cli("lint", "--isolated", "docs", "--format", "json", cwd=tmp_path)
    assert excluded.stderr == "kanban-audit: warning: no Python files found in docs\n"


def test_rules_wrap_to_the_terminal_and_not_in_a_pipe(tmp_path: Path) -> None:
    wrapped = on_terminal(tmp_path, "rules", COLUMNS="60")
    assert max(len(line) for line in wrapped.splitlines()) <= 60
    piped = run_cli("rules", cwd=tmp_path, env={**os.environ, "COLUMNS": "60"})
    assert len(piped.stdout.splitlines()) == len(CODES)
    assert [line.split()[0] for line in wrapped.splitlines() if not line.startswith(" ")] == [
        line.split()[0] for line in piped.stdout.splitlines()
    ]
