"""The configuration comes with the code: the cache folder it names stays in the
project. `cache-dir = "../elsewhere"`, an absolute path, or a folder below a
committed link to a place outside is one line on stderr, exit 2, and nothing
created anywhere; `--cache-dir` on the command line may name any folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.cli import run_cli

WRITE = "def f(conn):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"


def project(tmp_path: Path, cache_dir: str) -> tuple[Path, Path]:
    root, outside = tmp_path / "project", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "api.py").write_text(WRITE)
    (root / "pyproject.toml").write_text(f"[tool.kanban-audit]\ncache-dir = {cache_dir!r}\n")
    (root / "linked").symlink_to(outside)
    return root, outside


def lint(root: Path, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "home")}
    done = run_cli("lint", *args, cwd=root, env=env)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("cache_dir", ["../outside/cache", "linked/cache", "{outside}/cache"])
def test_a_configured_cache_folder_out_of_the_project_is_refused(
    tmp_path: Path, cache_dir: str
) -> None:
    root, outside = project(tmp_path, cache_dir.format(outside=tmp_path / "outside"))
    code, out, err = lint(root, tmp_path)
    assert (code, out) == (2, "")
    assert err.startswith("kanban-audit: error: ") and "cache-dir" in err
    assert "leads out of the project" in err and len(err.splitlines()) == 1
    assert list(outside.iterdir()) == []
    assert not (root / ".kanban-audit-cache").exists()


def test_a_configured_cache_folder_in_the_project_is_used(tmp_path: Path) -> None:
    root, outside = project(tmp_path, "build/../.cache/kanban")
    code, out, err = lint(root, tmp_path)
    assert (code, err) == (
        1,
        "kanban-audit: warning: linked: symbolic link out of the analysed tree, not followed\n",
    )
    assert "api.py:2:5: KA001 " in out
    assert (root / ".cache" / "kanban" / "summaries.sqlite3").is_file()
    assert list(outside.iterdir()) == []


def test_a_cache_folder_named_on_the_command_line_may_be_anywhere(tmp_path: Path) -> None:
    root, _ = project(tmp_path, ".cache")
    elsewhere = tmp_path / "shared-cache"
    code, out, _ = lint(root, tmp_path, "--cache-dir", str(elsewhere))
    assert code == 1 and "api.py:2:5: KA001 " in out
    assert (elsewhere / "summaries.sqlite3").is_file()
