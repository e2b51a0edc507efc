"""The audit benchmarks still run end to end on a tiny board."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support import boards
from support.cli import run_json

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_make_board_builds_what_the_audit_finds(tmp_path: Path) -> None:
    path = tmp_path / "board.db"
    proc = subprocess.run(
        [sys.executable, BENCH / "make_board.py", path, "--tasks", "3000"],
        capture_output=True,
        text=True,
        check=True,
    )
    meta = json.loads(proc.stdout)
    assert meta["tasks"] == 3000 and meta["running"] == 30
    assert boards.rows(path, "PRAGMA journal_mode") == [("wal",)]
    code, doc = run_json("audit", path, "--now", meta["now"])
    assert code == 1
    assert doc["summary"]["findings"] == meta["findings"]
    assert doc["summary"]["repairable"] == meta["repairable"]


def test_bench_audit_runs_on_a_tiny_board(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, BENCH / "bench_audit.py", "--tasks", "3000", "--orphans", "40"]
        + ["--repeat", "1", "--workdir", tmp_path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| `kanban-audit audit --format json` (process) |" in proc.stdout
    result = json.loads(proc.stdout.split("```json\n", 1)[1].split("\n```", 1)[0])
    assert result["repair"]["backup off"]["repaired"] == result["repair"]["backup on"]["repaired"]
    assert result["repair"]["backup off"]["repaired"] >= 40
