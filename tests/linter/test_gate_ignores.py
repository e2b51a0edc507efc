"""The gate's modes analyse every changed file, whatever .gitignore or the excludes say.

Git ignores only untracked files: a module force-added (`git add -f api.py`)
stays tracked while `.gitignore` names it. `lint .` skips it, as ruff does; but
`--diff REV` and `--only-changed` (CI and the pre-commit hook) must not let a
pull request hide its own code from the gate with one line of `.gitignore`
or of `[tool.kanban-audit]` excludes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.cli import run_cli

WRITE = "def start(conn, tid):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=a@b", "-c", "user.name=a", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def reported(root: Path, *args: str) -> list[str]:
    done = run_cli("lint", "--format", "json", "--no-cache", *args, cwd=root)
    assert done.returncode in (0, 1), done.stderr
    return sorted(f["path"] for f in json.loads(done.stdout)["findings"])


@pytest.mark.parametrize(
    "hide",
    [
        {".gitignore": "api.py\n"},
        {".gitignore": "hidden/\n"},
        {"pyproject.toml": '[tool.kanban-audit]\nextend-exclude = ["api.py", "hidden/**"]\n'},
    ],
    ids=["gitignore-file", "gitignore-folder", "config-exclude"],
)
def test_a_change_that_hides_itself_is_still_gated(tmp_path: Path, hide: dict[str, str]) -> None:
    (tmp_path / "base.py").write_text("X = 1\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    for name, text in hide.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "api.py").write_text(WRITE)
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "jobs.py").write_text(WRITE)
    git(tmp_path, "add", "-A", "-f")
    git(tmp_path, "commit", "-qm", "the pull request")
    both = ["api.py", "hidden/jobs.py"]
    assert reported(tmp_path) != both  # a whole-tree run skips them, as ruff does
    assert reported(tmp_path, "--diff", "HEAD~1") == both
    assert reported(tmp_path, "--only-changed", "api.py", "hidden/jobs.py") == both
