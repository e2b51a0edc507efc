"""The pre-commit hook, run by the real `pre-commit` tool on real `git commit`s.

The temp project is a small board service: `db.py` holds the claim path and a
private `_set_status` helper that only safe literals reach. The hook is
declared as a `repo: local` hook built from this repo's `.pre-commit-hooks.yaml`
(with the installed command and `language: system`), so no network is needed:
a `language: python` hook would make pre-commit pip-install this package.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

KANBAN_AUDIT = Path(sys.executable).parent / "kanban-audit"
MANIFEST = Path(__file__).parents[1] / ".pre-commit-hooks.yaml"

DB = """\
    def claim_task(conn, task_id, lock):
        conn.execute(
            "UPDATE tasks SET status = 'running', claim_lock = ? "
            "WHERE id = ? AND status = 'ready'",
            (lock, task_id),
        )


    def _set_status(conn, task_id, status):
        conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (status, task_id))


    def block_task(conn, task_id):
        _set_status(conn, task_id, "blocked")


    def complete_task(conn, task_id):
        _set_status(conn, task_id, "done")
    """

BUGGY_API = """\
    from db import _set_status


    def start_now(conn, tid):
        _set_status(conn, tid, "running")
    """

CLEAN_API = """\
    from db import _set_status

    MOVABLE = ("todo", "triage", "blocked")


    def patch_task(conn, tid, body):
        status = body["status"]
        if status not in MOVABLE:
            raise ValueError(f"cannot move a task to {status!r}")
        _set_status(conn, tid, status)
    """

UNRELATED = """\
    def slugify(title):
        return "-".join(title.lower().split())
    """


def load_manifest() -> list[dict]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_declares_the_hook() -> None:
    (hook,) = load_manifest()
    assert hook["id"] == "kanban-audit"
    assert hook["name"]
    assert hook["entry"] == "kanban-audit lint --only-changed"
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    assert hook["require_serial"] is True
    assert hook["pass_filenames"] is True
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


class Project:
    """A git work tree with the hook installed, isolated from the user's git and pre-commit."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
        (home / "gitconfig").touch()
        self.env.update(
            GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
            GIT_CONFIG_NOSYSTEM="1",
            PRE_COMMIT_HOME=str(home / "pre-commit"),
            PRE_COMMIT_COLOR="never",
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=300
        )

    def git(self, *args: str) -> str:
        proc = self.run("git", *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    def write(self, name: str, source: str) -> None:
        (self.root / name).write_text(textwrap.dedent(source), encoding="utf-8")

    def commit(self, *names: str, verify: bool = True) -> subprocess.CompletedProcess[str]:
        """Stage `names` and commit; git sends the hook's output to stderr."""
        self.git("add", *names)
        flags = [] if verify else ["--no-verify"]
        return self.run("git", "commit", "-m", f"change {' '.join(names)}", *flags)

    def commits(self) -> int:
        return int(self.git("rev-list", "--count", "HEAD"))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "board-service"
    root.mkdir()
    project = Project(root, tmp_path)
    project.git("init", "-q", "-b", "main")
    project.git("config", "user.name", "Board Dev")
    project.git("config", "user.email", "dev@example.com")
    project.git("config", "commit.gpgsign", "false")

    (hook,) = load_manifest()
    hook["entry"] = hook["entry"].replace("kanban-audit", shlex.quote(str(KANBAN_AUDIT)), 1)
    hook["language"] = "system"
    config = {"repos": [{"repo": "local", "hooks": [hook]}]}
    (root / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    project.write("pyproject.toml", '[project]\nname = "board-service"\nversion = "0.1.0"\n')
    install = project.run(sys.executable, "-m", "pre_commit", "install")
    assert install.returncode == 0, install.stdout + install.stderr

    project.write("db.py", DB)
    first = project.commit(".pre-commit-config.yaml", "pyproject.toml", "db.py")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "kanban-audit" in first.stderr and "Passed" in first.stderr
    return project


def test_commit_introducing_the_bug_is_refused(project: Project) -> None:
    project.write("api.py", BUGGY_API)
    proc = project.commit("api.py")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "Failed" in output
    line = next(x for x in output.splitlines() if " KA001 " in x)
    assert line.startswith("api.py:5:"), output  # the call in api.py, not the write in db.py
    assert "db.py:" in output  # the trace reaches the write in the unchanged helper
    assert project.commits() == 1


def test_clean_commit_passes(project: Project) -> None:
    project.write("api.py", CLEAN_API)
    proc = project.commit("api.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stderr
    assert "KA0" not in proc.stderr
    assert project.commits() == 2


def test_unrelated_change_passes_despite_existing_findings(project: Project) -> None:
    """Existing debt does not block unrelated work: the hook gates what a commit
    touches; the whole-project gate is CI (see docs/ci.md)."""
    project.write("api.py", BUGGY_API)
    assert project.commit("api.py", verify=False).returncode == 0

    project.write("textutil.py", UNRELATED)
    proc = project.commit("textutil.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stderr  # the hook ran on the Python file; it was not skipped
    assert "KA001" not in proc.stderr


def test_touching_the_helper_reports_findings_through_it(project: Project) -> None:
    """A finding's trace includes the write; editing that file shows the finding."""
    project.write("api.py", BUGGY_API)
    assert project.commit("api.py", verify=False).returncode == 0

    project.write("db.py", "# Board SQL: the claim path and its helpers.\n" + textwrap.dedent(DB))
    proc = project.commit("db.py")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert any(x.startswith("api.py:5:") and " KA001 " in x for x in output.splitlines()), output


def test_a_hostile_file_name_cannot_forge_the_hooks_output(project: Project) -> None:
    """The hook prints the text format into CI logs and terminals: a staged file
    named with a newline and a workflow command, or an escape sequence, is shown
    escaped, never as a line of its own."""
    name = "api\n::error file=db.py,line=1::forged\x1b[2J.py"
    project.write(name, BUGGY_API)
    proc = project.commit(name)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "\x1b" not in output
    assert not any(line.startswith("::") for line in output.splitlines()), output
    assert "api\\n::error file=db.py,line=1::forged\\x1b[2J.py:5:5: KA001 " in output
