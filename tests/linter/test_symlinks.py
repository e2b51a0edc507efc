"""Symbolic links in the analysed tree never lead the lint out of it.

A pull request can commit a link to any folder (`outside -> /srv/other`,
`root -> /`) or file. Git stores a link, not what it points at, and neither
git nor ruff follows a link out of the tree: the lint analyses only what lies
inside the folders it was given, walks each folder once whatever the links
leading to it, and says which links it did not follow.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.cli import run_cli

WRITE = "def f(conn):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"
NOT_FOLLOWED = "symbolic link out of the analysed tree, not followed"


def lint(cwd: Path, *args: str) -> tuple[int, dict, str]:
    done = run_cli("lint", "--format", "json", "--no-cache", *args, cwd=cwd, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "api.py").write_text(WRITE)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.py").write_text(WRITE)
    return root


def test_a_link_to_a_folder_outside_is_not_analysed(project: Path) -> None:
    (project / "outside").symlink_to(project.parent / "elsewhere")
    (project / "stolen.py").symlink_to(project.parent / "elsewhere" / "other.py")
    code, data, stderr = lint(project)
    assert [f["path"] for f in data["findings"]] == ["pkg/api.py"]
    assert data["summary"]["files"] == 1
    assert stderr.splitlines() == [
        f"kanban-audit: warning: outside: {NOT_FOLLOWED}",
        f"kanban-audit: warning: stolen.py: {NOT_FOLLOWED}",
    ]
    assert code == 1


def test_a_link_to_the_root_of_the_file_system_is_not_walked(project: Path) -> None:
    (project / "pkg" / "root").symlink_to("/")
    code, data, stderr = lint(project)  # walking / would not end in two minutes
    assert [f["path"] for f in data["findings"]] == ["pkg/api.py"]
    assert stderr == f"kanban-audit: warning: pkg/root: {NOT_FOLLOWED}\n"


def test_a_folder_is_walked_once_whatever_links_lead_to_it(project: Path) -> None:
    (project / "alias").symlink_to("pkg")
    (project / "pkg" / "again").symlink_to("../pkg")
    code, data, stderr = lint(project, "pkg", "alias")
    assert [f["path"] for f in data["findings"]] == ["pkg/api.py"]
    assert data["summary"]["files"] == 1
    # A named folder that is a link is the user's choice: followed.
    code, data, _ = lint(project, "alias")
    assert [f["path"] for f in data["findings"]] == ["alias/api.py"]


def test_a_link_inside_the_tree_is_followed(project: Path) -> None:
    (project / "lib").mkdir()
    (project / "lib" / "db.py").write_text(WRITE)
    (project / "pkg" / "db.py").symlink_to("../lib/db.py")
    code, data, stderr = lint(project, "pkg", "lib")
    assert sorted(f["path"] for f in data["findings"]) == ["lib/db.py", "pkg/api.py", "pkg/db.py"]
    assert stderr == ""
    # Named alone, `pkg` is the analysed tree: its link to `lib` leads out of it.
    code, data, stderr = lint(project, "pkg")
    assert [f["path"] for f in data["findings"]] == ["pkg/api.py"]
    assert stderr == f"kanban-audit: warning: pkg/db.py: {NOT_FOLLOWED}\n"


def test_an_ignore_file_that_is_a_link_is_not_read_as_git_does_not(project: Path) -> None:
    (project.parent / "rules.ignore").write_text("api.py\n")
    (project / ".gitignore").symlink_to(project.parent / "rules.ignore")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "pkg/api.py" in status.stdout  # git does not follow the link either
    code, data, stderr = lint(project)
    assert [f["path"] for f in data["findings"]] == ["pkg/api.py"]
    assert stderr == (
        "kanban-audit: warning: .gitignore: a symbolic link, not read"
        " (git does not follow it either)\n"
    )
