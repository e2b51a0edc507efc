"""What git ignores is not analysed, as with ruff; git itself is the oracle here.

Trees are real folders with real `.gitignore` files in real repositories;
the files the lint would analyse are compared with what `git ls-files
--others --exclude-standard` lists. The lint itself never runs git.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from support.cli import run_cli

from kanban_audit.linter.discover import discover

WRITE = "def f(conn):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=a@b", "-c", "user.name=a", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def analysed(root: Path, *targets: Path, respect: bool = True) -> list[str]:
    """The files discovery keeps, relative to root (no default excludes but .git)."""
    found = discover(list(targets) or [root], root, root, ("*.py",), (".git",), respect)
    return [f.display for f in found.files]


def git_keeps(root: Path) -> list[str]:
    """Tracked files and untracked ones git does not ignore."""
    listed = git(root, "ls-files", "-co", "--exclude-standard", "-z").split("\0")
    return sorted(name for name in listed if name.endswith(".py"))


RULES = {
    ".gitignore": "\n".join(
        [
            "# generated code",
            "gen/",
            "*_pb2.py",
            "!keep_pb2.py",
            "/top_only.py",
            "docs/**/conf.py",
            "\\#hash.py",
            "trailing.py   ",
            "cache",
            "a?c.py",
            "[xy]_*.py",
            "",
        ]
    ),
    "sub/.gitignore": "*.py\n!important.py\n!gen_like/\n",
    "sub/deeper/.gitignore": "!*.py\nsecret.py\n",
}
FILES = [
    "a.py",
    "gen/x.py",
    "gen/deep/y.py",
    "lib/gen/z.py",
    "api_pb2.py",
    "keep_pb2.py",
    "lib/other_pb2.py",
    "top_only.py",
    "lib/top_only.py",
    "docs/conf.py",
    "docs/a/b/conf.py",
    "#hash.py",
    "trailing.py",
    "cache/c.py",
    "lib/cache/d.py",
    "abc.py",
    "abbc.py",
    "x_1.py",
    "z_1.py",
    "sub/local.py",
    "sub/important.py",
    "sub/deeper/back.py",
    "sub/deeper/secret.py",
    "excluded_by_info.py",
    "lib/kept.py",
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tree(tmp_path / "repo", {**RULES, **dict.fromkeys(FILES, WRITE)})
    git(root, "init", "-q")
    (root / ".git" / "info" / "exclude").write_text("excluded_by_info.py\n")
    return root


def test_the_files_analysed_are_the_files_git_does_not_ignore(repo: Path) -> None:
    kept = analysed(repo)
    assert kept == git_keeps(repo)
    assert "a.py" in kept and "sub/deeper/back.py" in kept and "keep_pb2.py" in kept
    assert "gen/x.py" not in kept and "excluded_by_info.py" not in kept


def test_without_respect_gitignore_every_file_is_analysed(repo: Path) -> None:
    assert analysed(repo, respect=False) == sorted(FILES)


def test_a_subfolder_sees_the_rules_of_the_folders_above_it(repo: Path) -> None:
    assert analysed(repo, repo / "sub") == ["sub/deeper/back.py", "sub/important.py"]
    assert analysed(repo, repo / "lib") == ["lib/kept.py", "lib/top_only.py"]


def test_a_named_ignored_folder_is_analysed_and_the_other_rules_still_apply(repo: Path) -> None:
    (repo / "gen" / "gen_pb2.py").write_text(WRITE)
    assert analysed(repo, repo / "gen") == ["gen/deep/y.py", "gen/x.py"]
    assert analysed(repo, repo / "gen" / "deep") == ["gen/deep/y.py"]


def test_outside_a_repository_gitignore_files_mean_nothing(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "*.py\n", "a.py": WRITE})
    assert analysed(root) == ["a.py"]


def test_a_nested_repository_has_its_own_rules(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "*_gen.py\n",
            "a_gen.py": WRITE,
            "inner/b_gen.py": WRITE,
            "inner/c.py": WRITE,
        },
    )
    git(root, "init", "-q")
    git(root / "inner", "init", "-q")
    (root / "inner" / ".gitignore").write_text("c.py\n")
    assert analysed(root) == ["inner/b_gen.py"]


def test_a_worktree_reads_the_exclude_file_of_its_repository(tmp_path: Path) -> None:
    main = tree(tmp_path / "main", {"a.py": WRITE})
    git(main, "init", "-q")
    git(main, "add", "-A")
    git(main, "commit", "-qm", "base")
    git(main, "worktree", "add", "-q", str(tmp_path / "wt"))
    (main / ".git" / "info" / "exclude").write_text("local_*.py\n")
    worktree = tree(tmp_path / "wt", {"local_notes.py": WRITE, "b.py": WRITE})
    assert (worktree / ".git").is_file()
    assert analysed(worktree) == git_keeps(worktree) == ["a.py", "b.py"]


def test_ignored_folders_are_never_entered(repo: Path) -> None:
    (repo / "gen" / "ghost.py").symlink_to(repo / "nowhere.py")
    (repo / "gen" / "loop").symlink_to(repo / "gen")
    found = discover([repo], repo, repo, ("*.py",), (".git",), True)
    assert found.errors == []
    unignored = discover([repo], repo, repo, ("*.py",), (".git",), False)
    assert {e.path for e in unignored.errors} == {"gen/ghost.py", "gen/loop"}


def test_hostile_ignore_files_cannot_hang_the_walk(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "*a*a*a*a*a*a*a*a*a*b\na/**/a/**/a/**/b\nsafe_*.py\n[z-a]\n\\\n",
            "a" * 200 + ".py": WRITE,
            "/".join(["a"] * 60) + "/deep.py": WRITE,
            "safe_1.py": WRITE,
        },
    )
    git(root, "init", "-q")
    os.mkfifo(root / "sub.gitignore")
    (root / "pipe").mkdir()
    (root / "pipe" / ".gitignore").symlink_to(root / "sub.gitignore")
    (root / "big").mkdir()
    (root / "big" / ".gitignore").write_text("x.py\n" * 300_000)
    (root / "big" / "x.py").write_text(WRITE)
    start = time.monotonic()
    found = discover([root], root, root, ("*.py",), (".git",), True)
    assert time.monotonic() - start < 10
    assert sorted(f.display for f in found.files) == [
        "/".join(["a"] * 60) + "/deep.py",
        "a" * 200 + ".py",
        "big/x.py",
    ]
    assert found.warnings == [
        ".gitignore: line 1: more than 3 wildcards, not applied",
        ".gitignore: line 2: more than 3 wildcards, not applied",
        "big/.gitignore: larger than 1024 KiB, not applied",
        "pipe/.gitignore: a symbolic link, not read (git does not follow it either)",
    ]


# -- end to end: the installed command ----------------------------------------


def lint(cwd: Path, *args: str) -> list[str]:
    done = run_cli("lint", "--format", "json", "--no-cache", *args, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr
    return sorted({f["path"] for f in json.loads(done.stdout)["findings"]})


def test_e2e_ignored_files_are_not_reported_unless_named_or_asked(tmp_path: Path) -> None:
    root = tree(tmp_path, {".gitignore": "gen/\n", "api.py": WRITE, "gen/models.py": WRITE})
    git(root, "init", "-q")
    assert lint(root) == ["api.py"]
    assert lint(root, "gen/models.py") == ["gen/models.py"]
    assert lint(root, "gen") == ["gen/models.py"]
    both = ["api.py", "gen/models.py"]
    assert lint(root, "--no-respect-gitignore") == both
    assert lint(root, "--no-respect-gitignore", "--respect-gitignore") == ["api.py"]
    (root / "pyproject.toml").write_text("[tool.kanban-audit]\nrespect-gitignore = false\n")
    assert lint(root) == both
    assert lint(root, "--respect-gitignore") == ["api.py"]
