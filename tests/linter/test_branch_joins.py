"""Values rebound on many branches: joined where the branches meet, never one
path at a time (which doubles the work with each `if`), and the verdict exact."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
BRANCHES = 200
# Far more than the second these programs take, far less than a stall.
TIMEOUT = 60

Step = Callable[[int], list[str]]
WRITE = 'conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (s, task_id))'


def program(start: str, step: Step, write: str = WRITE) -> str:
    """A function that starts `s` (or a record) as `start`, then rebinds it on
    BRANCHES branches, then writes it."""
    lines = ["def write(conn, task_id, opts, extra):", f"    {start}"]
    for i in range(BRANCHES):
        lines += [f"    {line}" for line in step(i)]
    return "\n".join([*lines, f"    {write}", ""])


SHAPES: dict[str, tuple[str, Step, str]] = {
    "if rebinds through a text method": (
        "s = {value}",
        lambda i: [f"if opts.get('k{i}'):", "    s = s.strip()"],
        WRITE,
    ),
    "conditional expressions": (
        "s = {value}",
        lambda i: [f"s = s.lower() if opts.get('k{i}') else s"],
        WRITE,
    ),
    "elif chain": (
        "s = {value}",
        lambda i: [
            ("if" if i == 0 else "elif") + f" opts.get('m') == 'k{i}':",
            "    s = s.strip()",
        ],
        WRITE,
    ),
    "loops that rebind and break": (
        "s = {value}",
        lambda i: [
            "for k in opts:",
            f"    if k == 'k{i}':",
            "        s = s.strip()",
            "        break",
        ],
        WRITE,
    ),
    "SQL text extended on branches": (
        'sql = "UPDATE tasks SET status = {value}"',
        lambda i: [f"if opts.get('k{i}'):", f"    sql += ', k{i} = 1'"],
        'conn.execute(sql + " WHERE id = ?", (task_id,))',
    ),
    "text concatenated on branches": (
        "s = {value}",
        lambda i: [f"if opts.get('k{i}'):", "    s = s + ''"],
        WRITE,
    ),
    "dict items set on branches": (
        "row = {{'status': {value}}}",
        lambda i: [f"if opts.get('k{i}'):", f"    row['k{i}'] = extra"],
        'conn.execute("UPDATE tasks SET status = :status WHERE id = 1", row)',
    ),
}


def lint(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    target = tmp_path / "rebound.py"
    target.write_text(source)
    return run_cli("lint", "--isolated", "--no-cache", target.name, cwd=tmp_path, timeout=TIMEOUT)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_rebound_bug_is_found_promptly(tmp_path: Path, shape: str) -> None:
    start, step, write = SHAPES[shape]
    proc = lint(tmp_path, program(start.format(value="'running'"), step, write))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "KA001 status 'running' can reach tasks.status" in proc.stdout


@pytest.mark.parametrize("shape", SHAPES)
def test_a_rebound_safe_value_passes_promptly(tmp_path: Path, shape: str) -> None:
    start, step, write = SHAPES[shape]
    proc = lint(tmp_path, program(start.format(value="'pending'"), step, write))
    assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed."), proc.stderr


def test_the_benchmark_file_passes_promptly() -> None:
    """bench/branches_200.py: a checked value normalised on 200 options."""
    proc = run_cli(
        "lint", "--isolated", "--no-cache", "bench/branches_200.py", cwd=REPO, timeout=TIMEOUT
    )
    assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed."), proc.stderr


def test_a_dict_rebuilt_from_itself_on_every_branch_ends_within_the_budget(tmp_path: Path) -> None:
    """`row = {**row, ...}` on 200 branches: a value nested deeper than the lint
    follows is a KA002 that says so at the write, in time."""
    source = program(
        "row = {'status': 'pending'}",
        lambda i: [f"if opts.get('k{i}'):", f"    row = {{**row, 'k{i}': 'x'}}"],
        'conn.execute("UPDATE tasks SET status = :status WHERE id = 1", row)',
    )
    proc = lint(tmp_path, source)
    assert proc.returncode == 1, proc.stderr
    assert "rebound.py:" in proc.stdout and "KA002" in proc.stdout
    assert "analysis budget exceeded" in proc.stdout
