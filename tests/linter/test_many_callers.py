"""A writer with hundreds of callers: the calls that pass a safe constant cannot
make a finding, so they never crowd out the one that passes the guarded state;
past the budget the rest is a KA002 that says so, never dropped in silence."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.cli import run_cli

CALLERS = 300  # more than the paths one write follows (claimpath.MAX_PATHS)
TIMEOUT = 60
WRITER = [
    "def move(conn, t, s):",
    '    conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (s, t))',
]


def lint(tmp_path: Path, passed: str, last: str) -> subprocess.CompletedProcess[str]:
    """CALLERS functions pass `passed` (formatted with their number), then one `last`."""
    lines = list(WRITER)
    for n in range(CALLERS):
        lines += [f"def step_{n}(conn, t):", f"    move(conn, t, {passed.format(n=n)})"]
    lines += ["def start(conn, t):", f"    move(conn, t, {last})", ""]
    (tmp_path / "jobs.py").write_text("\n".join(lines))
    return run_cli("lint", "--isolated", "--no-cache", "jobs.py", cwd=tmp_path, timeout=TIMEOUT)


def test_the_guarded_state_after_hundreds_of_safe_calls_is_found(tmp_path: Path) -> None:
    done = lint(tmp_path, "'s{n}'", "'running'")
    assert done.returncode == 1, done.stderr
    findings = [line for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert findings[0].startswith(f"jobs.py:{2 * CALLERS + 4}:5: KA001 "), done.stdout
    assert findings[1:] == ["Found 1 finding (KA001: 1)."]


def test_hundreds_of_safe_calls_pass(tmp_path: Path) -> None:
    done = lint(tmp_path, "'s{n}'", "'done'")
    assert (done.returncode, done.stdout.strip()) == (0, "All checks passed."), done.stderr


def test_more_offending_calls_than_the_budget_end_in_a_budget_finding(tmp_path: Path) -> None:
    done = lint(tmp_path, "'running'", "'running'")
    assert done.returncode == 1, done.stderr
    assert "KA002 " in done.stdout and "analysis budget exceeded" in done.stdout
    assert "KA001" in done.stdout
