"""Every bad invocation ends the same way: exit 2, one line on stderr, nothing touched.

Each case builds a real project (the bundled board service, a pyproject, a
rule pack, a git repository as needed), hashes the whole tree, runs the
installed command and checks that the tree is byte for byte the same: no
cache, no report, no baseline was written, even partly.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support.cli import run_cli

from .harness import REPO, service

PACK = (REPO / "kanban_audit" / "packs" / "hermes.toml").read_text(encoding="utf-8")
TASKS = '[tasks]\ntable = "tasks"\nstatus = "status"\nguarded = "running"\nrepair_to = "ready"\n'


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    # Words the one error line must hold.
    says: tuple[str, ...] = ()
    setup: Callable[[Path], None] | None = None


def git_repo(root: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.email=a@b", "-c", "user.name=a", *args],
            cwd=root,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "base")


def fifo(name: str) -> Callable[[Path], None]:
    return lambda root: os.mkfifo(root / name)


def config(text: str) -> dict[str, str | bytes]:
    return {"pyproject.toml": text}


def section(body: str) -> dict[str, str | bytes]:
    return config(f"[tool.kanban-audit]\n{body}\n")


CASES = [
    # -- options with a wrong value
    Case("format", ("lint", "--format", "xml"), says=("--format", "xml")),
    Case("jobs-negative", ("lint", "--jobs", "-1"), says=("--jobs",)),
    Case("jobs-text", ("lint", "--jobs", "many"), says=("--jobs",)),
    Case("jobs-float", ("lint", "--jobs", "1.5"), says=("--jobs",)),
    Case("jobs-huge", ("lint", "--jobs", "100000"), says=("--jobs",)),
    Case("select-unknown", ("lint", "--select", "KA01,KA999"), says=("--select", "did you mean")),
    Case("ignore-unknown", ("lint", "--ignore", "KB001"), says=("--ignore", "did you mean")),
    Case("unknown-option", ("lint", "--selekt", "KA001"), says=("--selekt",)),
    Case("flag-with-value", ("lint", "--exit-zero=yes"), says=("--exit-zero",)),
    Case("option-without-value", ("lint", "--format"), says=("--format",)),
    Case("statistics-json", ("lint", "--statistics", "--format", "json"), says=("--statistics",)),
    Case("missing-path", ("lint", "board", "nowhere"), says=("nowhere", "no such file")),
    Case(
        "broken-symlink-path",
        ("lint", "ghost.py"),
        setup=lambda root: (root / "ghost.py").symlink_to(root / "gone.py"),
        says=("ghost.py",),
    ),
    # -- rule packs
    Case("rules-missing", ("lint", "--rules", "nope.toml"), says=("rule pack", "nope.toml")),
    Case("rules-directory", ("lint", "--rules", "board"), says=("rule pack", "directory")),
    Case("rules-fifo", ("lint", "--rules", "pack.toml"), setup=fifo("pack.toml"), says=("pack",)),
    Case("rules-not-toml", ("lint", "--rules", "p.toml"), {"p.toml": "[tasks\n"}, ("TOML",)),
    Case("rules-not-utf8", ("lint", "--rules", "p.toml"), {"p.toml": b"\xff\xfe["}, ("p.toml",)),
    Case("rules-no-tasks", ("lint", "--rules", "p.toml"), {"p.toml": "[lint]\n"}, ("[tasks]",)),
    Case(
        "rules-missing-key",
        ("lint", "--rules", "p.toml"),
        {"p.toml": '[tasks]\ntable = "tasks"\n'},
        ("missing key", "status"),
    ),
    Case("rules-section-not-table", ("lint", "--rules", "p.toml"), {"p.toml": "tasks = 1\n"}),
    Case(
        "rules-pack-not-table",
        ("lint", "--rules", "p.toml"),
        {"p.toml": f"pack = 1\n{TASKS}"},
        ("[pack]",),
    ),
    Case(
        "rules-pack-name-not-string",
        ("lint", "--rules", "p.toml"),
        {"p.toml": f"[pack]\nname = [1]\n{TASKS}"},
        ("name",),
    ),
    Case(
        "rules-unknown-pack-key",
        ("lint", "--rules", "p.toml"),
        {"p.toml": f"[pack]\nnmae = 'x'\n{TASKS}"},
        ("nmae",),
    ),
    Case(
        "rules-wrong-type",
        ("lint", "--rules", "p.toml"),
        {"p.toml": TASKS + "[lint]\nsanctioned = 'claim_task'\n"},
        ("sanctioned",),
    ),
    Case(
        "rules-list-too-long",
        ("lint", "--rules", "p.toml"),
        {"p.toml": TASKS + "[lint]\nsanctioned = [" + ", ".join(["'x*'"] * 1001) + "]\n"},
        ("[lint].sanctioned", "more than 1000 entries"),
    ),
    Case(
        "rules-empty-name",
        ("lint", "--rules", "p.toml"),
        {"p.toml": TASKS.replace('"status"', '""')},
        ("status",),
    ),
    Case(
        "rules-table-unclosed-set",
        ("lint", "--rules", "p.toml"),
        {"p.toml": TASKS.replace('"tasks"', '"[ab_jobs"')},
        ("[tasks].table", "[ab_jobs"),
    ),
    Case(
        "rules-table-only-wildcards",
        ("lint", "--rules", "p.toml"),
        {"p.toml": TASKS.replace('"tasks"', '"*"')},
        ("[tasks].table", "wildcards"),
    ),
    Case(
        "rules-unknown-section",
        ("lint", "--rules", "p.toml"),
        {"p.toml": TASKS + "[taks]\n"},
        ("[taks]",),
    ),
    Case(
        "rules-unknown-key",
        ("lint", "--rules", "p.toml"),
        {"p.toml": PACK.replace("[tasks]\n", "[tasks]\ntabel = 'x'\n")},
        ("tabel",),
    ),
    # -- --config and pyproject.toml
    Case("config-missing", ("lint", "--config", "nope.toml"), says=("nope.toml",)),
    Case("config-directory", ("lint", "--config", "board"), says=("directory",)),
    Case("config-fifo", ("lint", "--config", "c.toml"), setup=fifo("c.toml"), says=("c.toml",)),
    Case("pyproject-not-toml", ("lint",), config("[tool.kanban-audit\n"), ("pyproject.toml",)),
    Case("pyproject-not-utf8", ("lint",), config(b"\xff\xfe[tool]"), ("pyproject.toml",)),
    Case("tool-not-table", ("lint",), config("tool = 1\n"), ("[tool]",)),
    Case("section-not-table", ("lint",), config("[tool]\nkanban-audit = 1\n"), ("table",)),
    Case("unknown-key", ("lint",), section("selekt = ['KA001']"), ("selekt",)),
    Case("select-not-list", ("lint",), section("select = 1"), ("select",)),
    Case("ignore-not-strings", ("lint",), section("ignore = [1]"), ("ignore",)),
    Case("include-not-list", ("lint",), section("include = {}"), ("include",)),
    Case("exclude-not-list", ("lint",), section("exclude = 1.5"), ("exclude",)),
    Case("extend-exclude-bad", ("lint",), section("extend-exclude = [[]]"), ("extend-exclude",)),
    Case("rules-not-string", ("lint",), section("rules = 1"), ("rules",)),
    Case(
        "exclude-too-costly",
        ("lint",),
        section("extend-exclude = ['*a*a*a*a*b']"),
        ("extend-exclude", "wildcards"),
    ),
    Case(
        "per-file-too-costly",
        ("lint",),
        section("per-file-ignores = { '**/a/**/b/**/c' = ['KA001'] }"),
        ("per-file-ignores", "wildcards"),
    ),
    Case("cache-dir-not-string", ("lint",), section("cache-dir = []"), ("cache-dir",)),
    Case(
        "respect-gitignore-not-bool",
        ("lint",),
        section("respect-gitignore = 'yes'"),
        ("respect-gitignore",),
    ),
    Case("per-file-not-table", ("lint",), section("per-file-ignores = 1"), ("per-file-ignores",)),
    Case(
        "per-file-not-list",
        ("lint",),
        section("per-file-ignores = { 'board/*' = 1 }"),
        ("per-file-ignores",),
    ),
    Case(
        "config-select-unknown",
        ("lint",),
        section("select = ['KA0001']"),
        ("select", "did you mean"),
    ),
    Case(
        "config-ignore-unknown",
        ("lint",),
        section("ignore = ['KA9']"),
        ("ignore", "did you mean"),
    ),
    Case(
        "config-per-file-unknown",
        ("lint",),
        section("per-file-ignores = { 'board/*' = ['KA01O'] }"),
        ("per-file-ignores", "did you mean"),
    ),
    Case("config-rules-missing", ("lint",), section("rules = 'nope.toml'"), ("nope.toml",)),
    Case("config-rules-directory", ("lint",), section("rules = 'board'"), ("directory",)),
    Case(
        "config-rules-fifo",
        ("lint",),
        section("rules = 'pack.toml'"),
        ("pack.toml",),
        fifo("pack.toml"),
    ),
    Case(
        "config-rules-not-toml",
        ("lint",),
        {**section("rules = 'p.toml'"), "p.toml": "= 1\n"},
        ("TOML",),
    ),
    Case(
        "config-rules-missing-keys",
        ("lint",),
        {**section("rules = 'p.toml'"), "p.toml": "[tasks]\n"},
        ("missing key",),
    ),
    # -- the cache
    Case("cache-dir-file", ("lint", "--cache-dir", "board/db.py"), says=("cache",)),
    Case("cache-dir-under-file", ("lint", "--cache-dir", "board/db.py/c"), says=("cache",)),
    Case("config-cache-dir-file", ("lint",), section("cache-dir = 'board/api.py'"), ("cache",)),
    Case(
        "config-cache-dir-project", ("lint",), section("cache-dir = '.'"), ("not a kanban-audit",)
    ),
    Case("cache-dir-not-a-cache", ("lint", "--cache-dir", "board"), says=("not empty",)),
    # -- baselines
    Case("baseline-missing", ("lint", "--baseline", "b.json"), says=("baseline", "b.json")),
    Case("baseline-garbage", ("lint", "--baseline", "b.json"), {"b.json": "{"}, ("JSON",)),
    Case("baseline-directory", ("lint", "--baseline", "board"), says=("baseline",)),
    Case("baseline-shape", ("lint", "--baseline", "b.json"), {"b.json": "[]"}, ("baseline",)),
    Case(
        "baseline-bad-with-write",
        ("lint", "--baseline", "b.json", "--write-baseline", "new.json"),
        {"b.json": "{}"},
        ("b.json",),
    ),
    # -- output files
    Case("output-missing-folder", ("lint", "-o", "out/report.txt"), says=("--output", "out")),
    Case("output-directory", ("lint", "--output", "board"), says=("--output", "directory")),
    Case(
        "write-baseline-missing-folder",
        ("lint", "--write-baseline", "out/b.json"),
        says=("--write-baseline", "out"),
    ),
    Case(
        "write-baseline-directory",
        ("lint", "--write-baseline", "board"),
        says=("--write-baseline", "directory"),
    ),
    # -- --diff
    Case("diff-outside-git", ("lint", "--diff", "HEAD"), says=("--diff", "git")),
    Case(
        "diff-unknown-rev", ("lint", "--diff", "no-such-rev"), setup=git_repo, says=("no-such-rev",)
    ),
    Case(
        "diff-rev-is-an-option",
        ("lint", "--diff=--output=leak.txt"),
        setup=git_repo,
        says=("--diff",),
    ),
    # -- the other commands
    Case("rules-extra-argument", ("rules", "KA001"), says=("KA001",)),
    Case("explain-no-code", ("explain",), says=("CODE",)),
    Case("explain-unknown", ("explain", "KA01"), says=("KA01", "did you mean")),
    Case("explain-two-codes", ("explain", "KA001", "KA002"), says=("KA002",)),
    Case("unknown-command", ("lnit",), says=("lnit",)),
]


def tree_state(root: Path) -> dict[str, str]:
    """Every entry under root: file contents by hash, links by target, folders by name."""
    state = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                state[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                state[rel] = "dir"
            elif path.is_file():
                state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                state[rel] = "special"
    return state


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_invocation_is_one_line_exit_2_and_touches_nothing(tmp_path: Path, case: Case) -> None:
    root = service(tmp_path / "svc")
    for name, content in case.files.items():
        if isinstance(content, bytes):
            (root / name).write_bytes(content)
        else:
            (root / name).write_text(content, encoding="utf-8")
    if case.setup:
        case.setup(root)
    before = tree_state(root)
    done = run_cli(*case.args, cwd=root, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kanban-audit: error: "), done.stderr
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    for word in case.says:
        assert word in lines[0], lines[0]
    assert tree_state(root) == before
