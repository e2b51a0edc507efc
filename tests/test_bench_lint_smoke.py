"""The lint benchmark still runs end to end on a tiny corpus."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_lint.py"


@pytest.mark.bench
def test_bench_lint_quick_writes_its_section(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\n## Audit and repair\n\nkept as is\n")
    proc = subprocess.run(
        [sys.executable, BENCH, "--quick", "--results", results, "--workdir", tmp_path / "w"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    text = results.read_text()
    assert text.startswith("# Results\n\n## Audit and repair\n\nkept as is\n")
    assert text.count("<!-- lint:start -->") == 1 and text.count("<!-- lint:end -->") == 1
    assert "<!-- lint:small:start -->" in text and "<!-- lint:small:end -->" in text
    assert "KA001 small/board_service/board/api.py:18" in text
    for label in ("ruff F401", "kanban-audit cold", "kanban-audit warm, example", "Fixit"):
        assert f"| {label}" in text
    assert text.count("- PASS: ") + text.count("- FAIL: ") == 3


def test_a_new_block_replaces_only_its_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(BENCH.parent))
    bench = importlib.import_module("bench_lint")
    results = tmp_path / "RESULTS.md"
    results.write_text("head\n")
    old = {k: f"<!-- lint:{k}:start -->\nold {k}\n<!-- lint:{k}:end -->" for k in ("a", "b")}
    bench.write_section(results, old)
    results.write_text(results.read_text() + "tail\n")
    new = "<!-- lint:b:start -->\nnew b\n<!-- lint:b:end -->"
    bench.write_section(results, {"b": new})
    text = results.read_text()
    assert text.startswith("head\n\n<!-- lint:start -->") and text.endswith(
        "<!-- lint:end -->\ntail\n"
    )
    assert old["a"] in text and new in text and "old b" not in text
