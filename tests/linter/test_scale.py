"""Inputs that grow large in one direction: the lint answers in seconds, exactly
where it was exact, whatever the size."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.cli import run_cli

# Far more than the seconds these programs take, far less than a stall.
TIMEOUT = 60
FUNCTIONS = 20_000

WRITER = [
    "def set_status(conn, s, t):",
    '    conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (s, t))',
    "",
    "",
    "def run(conn, t):",
    "    set_status(conn, 'running', t)",
]


def lint(tmp_path: Path, lines: list[str]) -> subprocess.CompletedProcess[str]:
    target = tmp_path / "big.py"
    target.write_text("\n".join([*lines, ""]))
    return run_cli("lint", "--isolated", "--no-cache", target.name, cwd=tmp_path, timeout=TIMEOUT)


def test_a_module_of_many_functions_is_linted_promptly(tmp_path: Path) -> None:
    """Each top-level statement is run on the names it mentions, not on a copy of
    every name the module bound before it."""
    functions = [f"def f{i}(conn, t):\n    return {i}\n\n" for i in range(FUNCTIONS)]
    proc = lint(tmp_path, [*functions, *WRITER])
    line = 4 * FUNCTIONS + 6  # four lines a function
    assert proc.stdout.splitlines() == [
        f"big.py:{line}:5: KA001 status 'running' can reach tasks.status via set_status()"
        " outside the claim path",
        f"    big.py:{line}:5: run() calls set_status()",
        f"    big.py:{line - 4}:5: set_status() writes tasks.status (UPDATE)",
        "Found 1 finding (KA001: 1).",
    ], proc.stderr
    assert proc.returncode == 1
