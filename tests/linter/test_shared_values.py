"""Values built from themselves (`X = (X, X)`, forty times) share their parts:
every join keeps them shared, so a short file lints in seconds, not in 2**40 steps."""

from __future__ import annotations

from pathlib import Path

from support.cli import run_cli

LEVELS = 40


def test_a_value_nested_from_shared_parts_lints_promptly(tmp_path: Path) -> None:
    lines = ['X = "UPDATE tasks SET status = ? WHERE id = ?"']
    for n in range(LEVELS):
        lines += [f"X{n} = (X, X)", f"X = X{n}"]
    lines += ["def note(conn, t):", "    conn.execute(X0[0], ('done', t))", ""]
    (tmp_path / "shared.py").write_text("\n".join(lines))
    done = run_cli("lint", "--isolated", "--no-cache", "shared.py", cwd=tmp_path, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "All checks passed."), done.stderr
