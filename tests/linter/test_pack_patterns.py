"""A rule pack's sanctioned writers are asked about once per function, as one
pattern: a pack with a thousand glob patterns lints a program of thousands of
functions in seconds, with the same verdicts as a pack of one."""

from __future__ import annotations

from pathlib import Path

from support.cli import run_cli

from .test_bad_input import PACK

FUNCTIONS = 3000
TIMEOUT = 60  # far more than the seconds this takes; a pair-by-pair match takes minutes


def test_a_thousand_sanctioned_patterns_are_matched_promptly(tmp_path: Path) -> None:
    patterns = ", ".join(f'"*.writer_{n}_*"' for n in range(999))
    pack = PACK.replace(
        'sanctioned = ["claim_task", "claim_review_task"]',
        f'sanctioned = [{patterns}, "claim_task"]',
    )
    assert pack != PACK
    (tmp_path / "pack.toml").write_text(pack)
    lines = [
        "def claim_task(conn, t):",
        '    conn.execute("UPDATE tasks SET status = ? WHERE id = ?", ("running", t))',
        "def move(conn, t, s):",
        '    conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (s, t))',
    ]
    for n in range(FUNCTIONS):
        lines += [f"def step_{n}(conn, t):", f"    move(conn, t, 's{n}')"]
    lines += ["def start(conn, t):", "    move(conn, t, 'running')", ""]
    (tmp_path / "jobs.py").write_text("\n".join(lines))
    done = run_cli(
        "lint", "--isolated", "--no-cache", "--rules", "pack.toml", "jobs.py",
        cwd=tmp_path, timeout=TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    findings = [line for line in done.stdout.splitlines() if " KA" in line]
    assert len(findings) == 1 and "KA001" in findings[0] and "via move()" in findings[0], (
        done.stdout
    )
