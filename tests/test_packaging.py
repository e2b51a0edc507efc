"""The tests run on the dependency versions a user gets.

The benchmark comparison tools (Fixit pins click below 8.2) live in the
`bench` extra only, and the one test that runs them is marked `bench`:
deselected by `pytest`, selected by `pytest -m bench` (CI runs it in a
virtualenv of its own).
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMOKE = "tests/test_bench_lint_smoke.py"


def extra(name: str) -> set[str]:
    """The distribution names an extra of the installed kanban-audit requires."""
    marker = re.compile(rf"""extra\s*==\s*["']{name}["']""")
    return {
        re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower()
        for requirement in metadata.requires("kanban-audit") or []
        if marker.search(requirement)
    }


def test_the_test_extra_does_not_pull_the_benchmark_tools() -> None:
    assert extra("bench") >= {"fixit", "ruff"}
    assert not extra("test") & {"fixit", "ruff", "kanban-audit"}


def collected(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *args, SMOKE],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return done.stdout


def test_the_tests_that_run_the_benchmark_tools_run_only_when_asked() -> None:
    assert "test_bench_lint_quick_writes_its_section" not in collected()
    assert "test_a_new_block_replaces_only_its_old_one" in collected()
    assert "test_bench_lint_quick_writes_its_section" in collected("-m", "bench")
