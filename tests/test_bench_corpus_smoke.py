"""The corpus benchmark still runs end to end on one small project (`pytest -m bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_corpus.py"


@pytest.mark.bench
def test_bench_corpus_prints_its_table_for_one_project() -> None:
    proc = subprocess.run(
        [sys.executable, BENCH, "--runs", "1", "--project", "liteq"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("| project | version | SQL or ORM | driver |")
    assert lines[0].endswith("| cold (s) | CPU (s) |")
    assert lines[2].startswith("| liteq | 0.2.1 | SQL | sqlite3 | 1 / 0 | 0 / 0 / 0 | ")
    assert len([line for line in lines if line.startswith("| ")]) == 2
    assert lines[-1].endswith(": every project lints in under 2 s cold")
    assert lines[-1].startswith(("- PASS", "- FAIL (liteq)"))


def test_an_unknown_project_is_one_line_and_exit_2() -> None:
    proc = subprocess.run(
        [sys.executable, BENCH, "--project", "no-such-board"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "no corpus project 'no-such-board'" in proc.stderr
