"""Class hierarchies shaped as lattices (each class deriving from the two before
it): every base is searched once per lookup, so a 60-class file lints in
seconds, with the verdict of a plain hierarchy."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.cli import run_cli

CLASSES = 60
# Far more than the seconds these files take; far less than the walk of every
# path through the lattice (2**40 of them at 60 classes).
TIMEOUT = 60


def lattice(root: str, base: str = "object") -> list[str]:
    """`C0(base)` (whose body is `root`), then `C{k}(C{k-1}, C{k-2})` up to CLASSES."""
    lines = [f"class C0({base}):", root]
    for k in range(1, CLASSES):
        bases = f"C{k - 1}, C{k - 2}" if k > 1 else "C0"
        lines += [f"class C{k}({bases}):", f"    f{k}: int = 0"]
    return lines


def lint(tmp_path: Path, lines: list[str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "lattice.py").write_text("\n".join([*lines, ""]))
    return run_cli("lint", "--isolated", "--no-cache", "lattice.py", cwd=tmp_path, timeout=TIMEOUT)


METHOD = (
    "    def move(self, conn, task_id, s):\n"
    '        conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (s, task_id))'
)
LAST = f"C{CLASSES - 1}"


def test_a_method_inherited_through_a_lattice_is_found_promptly(tmp_path: Path) -> None:
    """`C59()` looks up `__init__` (defined nowhere) and `move` through every base."""
    call = ["def start(conn, task_id):", f"    {LAST}().move(conn, task_id, 'running')"]
    proc = lint(tmp_path, [*lattice(METHOD), *call])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "KA001 status 'running' can reach tasks.status via move()" in proc.stdout


def test_a_safe_call_through_a_lattice_passes_promptly(tmp_path: Path) -> None:
    call = ["def stop(conn, task_id):", f"    {LAST}().move(conn, task_id, 'done')"]
    proc = lint(tmp_path, [*lattice(METHOD), *call])
    assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed."), proc.stderr


MODEL = ["from typing import Literal", "from pydantic import BaseModel"]
WRITE = [
    f"def patch(conn, task_id, body: {LAST}):",
    '    conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (body.status, task_id))',
]


def test_a_request_model_built_as_a_lattice_keeps_its_bounds(tmp_path: Path) -> None:
    """The root's `Literal` bound reaches the last model: no finding, in time."""
    root = "    status: Literal['todo', 'done'] = 'todo'"
    proc = lint(tmp_path, [*MODEL, *lattice(root, "BaseModel"), *WRITE])
    assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed."), proc.stderr


def test_a_request_model_built_as_a_lattice_is_request_data(tmp_path: Path) -> None:
    proc = lint(tmp_path, [*MODEL, *lattice("    status: str = 'todo'", "BaseModel"), *WRITE])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "KA002" in proc.stdout and "lattice.py:" in proc.stdout


def test_an_exception_two_thousand_subclasses_deep_is_followed_to_its_base(tmp_path: Path) -> None:
    """`E{k}(E{k-1})` 2,000 times: a raise of the last under `except E0` is caught
    (the write after the `try` can see 'running'), one of the first under `except`
    of the last is not (the refusal narrows the write)."""
    depth = 2_000
    lines = ["class E0(Exception):", "    pass"]
    for k in range(1, depth):
        lines += [f"class E{k}(E{k - 1}):", "    pass"]
    for name, raised, caught in (("caught", depth - 1, 0), ("escapes", 0, depth - 1)):
        lines += [
            f"def {name}(conn, s):",
            "    try:",
            "        if s == 'running':",
            f"            raise E{raised}()",
            f"    except E{caught}:",
            "        pass",
            '    conn.execute("UPDATE tasks SET status = ?", (s,))',
        ]
    proc = lint(tmp_path, lines)
    line = 2 * depth + 7
    assert proc.stdout.splitlines() == [
        f"lattice.py:{line}:5: KA001 status 'running' can reach tasks.status"
        " outside the claim path",
        f"    lattice.py:{line}:5: caught() writes tasks.status (UPDATE)",
        "Found 1 finding (KA001: 1).",
    ], proc.stderr
    assert proc.returncode == 1
