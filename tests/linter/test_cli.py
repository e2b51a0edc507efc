"""The installed `kanban-audit lint`, run as a user or CI would run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.cli import KANBAN_AUDIT, run_cli

from .harness import EXAMPLE, service

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path, check_traceback: bool = True) -> subprocess.CompletedProcess:
    done = run_cli(*args, cwd=cwd, stdin=None)
    if check_traceback:
        assert "Traceback" not in done.stderr, done.stderr
    return done


def findings(done: subprocess.CompletedProcess) -> list[tuple[str, int, str]]:
    data = json.loads(done.stdout)
    return [(f["path"], f["line"], f["code"]) for f in data["findings"]]


@pytest.fixture
def buggy(tmp_path: Path) -> Path:
    return service(tmp_path / "svc")


@pytest.fixture
def fixed(tmp_path: Path) -> Path:
    return service(tmp_path / "svc", fixed=True)


def test_buggy_service_gives_exactly_the_two_findings_with_traces(buggy: Path) -> None:
    done = run("lint", "--format", "json", "--no-cache", cwd=buggy)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert [(f["path"], f["line"], f["code"]) for f in data["findings"]] == [
        ("board/api.py", 18, "KA001"),
        ("board/api.py", 29, "KA001"),
    ]
    patch, bulk = data["findings"]
    assert [(s["path"], s["line"]) for s in patch["trace"]] == [
        ("board/api.py", 18),
        ("board/db.py", 81),
    ]
    assert [(s["path"], s["line"]) for s in bulk["trace"]] == [
        ("board/api.py", 29),
        ("board/db.py", 91),
    ]
    assert "move_task" in patch["message"] and "bulk_move" in bulk["message"]


def test_fixed_service_is_clean(fixed: Path) -> None:
    done = run("lint", "--no-cache", cwd=fixed)
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "All checks passed."


def test_the_project_lints_itself_clean() -> None:
    done = run("lint", "--no-cache", cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_bad_files_are_reported_and_the_rest_is_analysed(buggy: Path) -> None:
    # Each bad file mentions the table, the column and execute: the analysis needs it.
    write = "conn.execute('UPDATE tasks SET status = ?', (s,))"
    (buggy / "board" / "broken.py").write_text(f"def f(conn, s:\n    {write}\n")
    (buggy / "board" / "latin1.py").write_bytes(f"# caf\xe9\n{write}\n".encode("latin-1"))
    nested = "(" * 3000 + "1" + ")" * 3000
    (buggy / "board" / "deep.py").write_text(f"{write}\nx = {nested}\n")
    (buggy / "board" / "ghost.py").symlink_to(buggy / "missing.py")
    (buggy / "board" / "loop").symlink_to(buggy / "board")
    (buggy / "board" / "irrelevant.py").write_text("def broken(:\n")
    os.mkfifo(buggy / "board" / "pipe.py")
    done = run("lint", "--format", "json", "--no-cache", cwd=buggy)
    assert done.returncode == 2
    data = json.loads(done.stdout)
    errors = {e["path"]: e["message"] for e in data["errors"]}
    # CPython's message and place, not LibCST's ("Syntax Error @ 2:1").
    assert {
        "path": "board/broken.py",
        "message": "syntax error: '(' was never closed",
        "line": 1,
        "col": 6,
    } in data["errors"]
    assert errors["board/latin1.py"].startswith("cannot decode")
    assert "nested" in errors["board/deep.py"] or "syntax" in errors["board/deep.py"]
    assert errors["board/ghost.py"] == "broken symlink"
    assert errors["board/loop"].startswith("symlink loop")
    assert errors["board/pipe.py"] == "not a regular file"
    # A file that cannot write the column is never parsed, so its syntax does not matter.
    assert "board/irrelevant.py" not in errors
    assert len(data["findings"]) == 2


def test_deeply_nested_file_with_status_write_is_an_error_not_a_crash(tmp_path: Path) -> None:
    nested = "[" * 900 + "]" * 900
    (tmp_path / "gen.py").write_text(
        f"def f(conn):\n    conn.execute('UPDATE tasks SET status = ?', ({nested}, 'x'))\n"
    )
    done = run("lint", "--format", "json", "--no-cache", cwd=tmp_path)
    assert done.returncode in (0, 1, 2)
    json.loads(done.stdout)


def test_huge_generated_file_is_skipped_with_an_error(buggy: Path) -> None:
    blob = "UPDATE_tasks_status = 1\n" * 400_000  # ~9.6 MB
    (buggy / "board" / "generated.py").write_text(blob)
    done = run("lint", "--format", "json", "--no-cache", cwd=buggy)
    data = json.loads(done.stdout)
    assert data["errors"] == [
        {
            "path": "board/generated.py",
            "message": "file too large to analyse (9 MiB)",
            "line": None,
            "col": None,
        }
    ]
    assert len(data["findings"]) == 2
    assert done.returncode == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_an_error(buggy: Path) -> None:
    secret = buggy / "board" / "secret.py"
    secret.write_text("x = 1\n")
    secret.chmod(0)
    done = run("lint", "--format", "json", "--no-cache", cwd=buggy)
    errors = json.loads(done.stdout)["errors"]
    assert {
        "path": "board/secret.py",
        "message": "permission denied",
        "line": None,
        "col": None,
    } in (errors)


def test_missing_path_and_bad_options_are_usage_errors(buggy: Path) -> None:
    done = run("lint", "nowhere", cwd=buggy)
    assert done.returncode == 2
    assert done.stderr == "kanban-audit: error: nowhere: no such file or directory\n"
    done = run("lint", "--rules", "missing.toml", cwd=buggy)
    assert done.returncode == 2
    assert done.stderr.strip() == "kanban-audit: error: rule pack not found: missing.toml"
    (buggy / "pyproject.toml").write_text("[tool.kanban-audit]\nselekt = ['KA001']\n")
    done = run("lint", cwd=buggy)
    assert done.returncode == 2
    assert "unknown option 'selekt'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_select_ignore_exit_zero_and_per_file_ignores(buggy: Path) -> None:
    assert run("lint", "--no-cache", "--ignore", "KA001", cwd=buggy).returncode == 0
    assert run("lint", "--no-cache", "--select", "KA002", cwd=buggy).returncode == 0
    assert run("lint", "--no-cache", "--select", "KA0", cwd=buggy).returncode == 1
    assert run("lint", "--no-cache", "--exit-zero", cwd=buggy).returncode == 0
    (buggy / "pyproject.toml").write_text(
        '[tool.kanban-audit.per-file-ignores]\n"board/api.py" = ["KA001"]\n'
    )
    assert run("lint", "--no-cache", cwd=buggy).returncode == 0


def test_config_exclude_and_rules_from_pyproject(buggy: Path, tmp_path: Path) -> None:
    (buggy / "pyproject.toml").write_text(
        '[tool.kanban-audit]\nextend-exclude = ["board/api.py"]\n'
    )
    done = run("lint", "--no-cache", "--format", "json", cwd=buggy)
    # Without the handlers the helpers' parameters have no visible caller: unchecked.
    assert findings(done) == [("board/db.py", 81, "KA002"), ("board/db.py", 91, "KA002")]
    pack = (REPO / "kanban_audit" / "packs" / "hermes.toml").read_text()
    (buggy / "cards.toml").write_text(pack.replace('guarded = "running"', 'guarded = "done"'))
    (buggy / "pyproject.toml").write_text('[tool.kanban-audit]\nrules = "cards.toml"\n')
    done = run("lint", "--no-cache", "--format", "json", cwd=buggy)
    # Only the claim path may write "done" now: complete_task is reached from patch_task.
    assert findings(done) == [("board/api.py", 16, "KA001")]


def test_cached_and_uncached_runs_agree(buggy: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = run("lint", "--format", "json", "--cache-dir", str(cache), cwd=buggy)
    warm = run("lint", "--format", "json", "--cache-dir", str(cache), cwd=buggy)
    plain = run("lint", "--format", "json", "--no-cache", cwd=buggy)
    cold_data, warm_data = json.loads(cold.stdout), json.loads(warm.stdout)
    assert cold_data["findings"] == warm_data["findings"] == json.loads(plain.stdout)["findings"]
    assert cold_data["summary"]["files_cached"] == 0
    assert warm_data["summary"]["files_cached"] == cold_data["summary"]["files_parsed"] > 0
    assert warm_data["summary"]["files_parsed"] == 0
    assert (cache / "CACHEDIR.TAG").is_file()


def test_no_cache_writes_nothing(buggy: Path) -> None:
    before = sorted(p.relative_to(buggy) for p in buggy.rglob("*"))
    run("lint", "--no-cache", cwd=buggy)
    assert sorted(p.relative_to(buggy) for p in buggy.rglob("*")) == before


def test_default_cache_lives_in_the_project_root(buggy: Path) -> None:
    (buggy / "pyproject.toml").write_text("[project]\nname = 'svc'\n")
    run("lint", cwd=buggy / "board")
    assert (buggy / ".kanban-audit-cache" / "CACHEDIR.TAG").is_file()


def test_parallel_and_serial_runs_agree(tmp_path: Path) -> None:
    tree = tmp_path / "many"
    for n in range(12):
        shutil.copytree(EXAMPLE / "board", tree / f"board{n}")
        api = tree / f"board{n}" / "api.py"
        api.write_text(api.read_text().replace("from board import db", f"from board{n} import db"))
    serial = run("lint", "--format", "json", "--no-cache", "--jobs", "1", cwd=tree)
    parallel = run("lint", "--format", "json", "--no-cache", "--jobs", "2", cwd=tree)
    assert json.loads(serial.stdout)["findings"] == json.loads(parallel.stdout)["findings"]
    assert len(findings(serial)) == 24


def test_only_changed_reports_findings_whose_trace_touches_the_files(buggy: Path) -> None:
    (buggy / "pyproject.toml").write_text("[project]\nname = 'svc'\n")
    (buggy / "board" / "unrelated.py").write_text("X = 1\n")
    api = run("lint", "--only-changed", "--format", "json", "--no-cache", "board/api.py", cwd=buggy)
    db = run("lint", "--only-changed", "--format", "json", "--no-cache", "board/db.py", cwd=buggy)
    other = run("lint", "--only-changed", "--no-cache", "board/unrelated.py", cwd=buggy)
    assert len(findings(api)) == 2 and api.returncode == 1
    assert findings(db) == findings(api)
    assert other.returncode == 0


def test_diff_reports_findings_touching_changed_files(buggy: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=buggy, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=a@b", "-c", "user.name=a", "add", "-A")
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "base")
    assert run("lint", "--diff", "HEAD", "--no-cache", cwd=buggy).returncode == 0
    api = buggy / "board" / "api.py"
    api.write_text(api.read_text() + "\n# touched\n")
    done = run("lint", "--diff", "HEAD", "--format", "json", "--no-cache", cwd=buggy)
    assert len(findings(done)) == 2
    assert run("lint", "--diff", "no-such-rev", cwd=buggy).returncode == 2


def test_output_file_and_no_progress_when_piped(buggy: Path) -> None:
    out = buggy / "report.json"
    done = run("lint", "--format", "json", "--no-cache", "-o", str(out), cwd=buggy)
    assert done.returncode == 1 and done.stdout == "" and done.stderr == ""
    assert len(json.loads(out.read_text())["findings"]) == 2


def test_module_entry_point_and_version(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kanban_audit", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("kanban-audit, version ")


def test_wheel_ships_the_default_rule_pack(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("kanban_audit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "kanban_audit/packs/hermes.toml" in names
    assert not any(name.startswith("tests/") for name in names)


def test_long_generated_string_tables_are_analysed(tmp_path: Path) -> None:
    table = " ".join(f"'line {n}\\n'" for n in range(1400))
    (tmp_path / "gen.py").write_text(
        f"HELP = ({table})\n\n\ndef force(conn):\n"
        "    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"
    )
    done = run("lint", "--format", "json", "--no-cache", cwd=tmp_path)
    assert json.loads(done.stdout)["errors"] == []
    assert findings(done) == [("gen.py", 5, "KA001")]


def test_cache_survives_a_pack_change_and_findings_follow_the_pack(
    buggy: Path, tmp_path: Path
) -> None:
    cache = str(tmp_path / "cache")
    first = run("lint", "--format", "json", "--cache-dir", cache, cwd=buggy)
    assert len(findings(first)) == 2
    pack = (REPO / "kanban_audit" / "packs" / "hermes.toml").read_text()
    (buggy / "done.toml").write_text(pack.replace('guarded = "running"', 'guarded = "done"'))
    second = run(
        "lint", "--format", "json", "--cache-dir", cache, "--rules", "done.toml", cwd=buggy
    )
    data = json.loads(second.stdout)
    assert data["summary"]["files_parsed"] == 0 and data["summary"]["files_cached"] == 2
    assert findings(second) == [("board/api.py", 16, "KA001")]


def test_progress_is_shown_on_a_terminal_only(tmp_path: Path) -> None:
    import pty

    for n in range(55):
        (tmp_path / f"w{n}.py").write_text(
            f"def w{n}(conn):\n    conn.execute(\"UPDATE tasks SET status = 'ready'\")\n"
        )
    controller, terminal = pty.openpty()
    done = subprocess.run(
        [str(KANBAN_AUDIT), "lint", "--no-cache", "--jobs", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=terminal,
        timeout=300,
    )
    os.close(terminal)
    shown = os.read(controller, 65536).decode()
    os.close(controller)
    assert done.returncode == 0
    assert "Analysing files: 55/55" in shown
    piped = run("lint", "--no-cache", "--jobs", "1", cwd=tmp_path)
    assert piped.stderr == ""


def test_exponential_values_and_deep_call_chains_stay_fast_and_correct(tmp_path: Path) -> None:
    lines = ['X0 = "UPDATE tasks SET status = ?"']
    lines += [f"X{i} = X{i - 1} + X{i - 1}" for i in range(1, 30)]
    lines += ["P0 = ('running',)"] + [f"P{i} = P{i - 1} + P{i - 1}" for i in range(1, 30)]
    lines += ["def doubled(conn):", "    conn.execute(X29, P29)", ""]
    lines += ["def f0(conn, s):", '    conn.execute("UPDATE tasks SET status = ?", (s,))', ""]
    for i in range(1, 1500):
        lines += [f"def f{i}(conn, s):", f"    f{i - 1}(conn, s)", ""]
    lines += ["def main(conn):", '    f1499(conn, "running")']
    (tmp_path / "m.py").write_text("\n".join(lines) + "\n")
    done = run("lint", "--format", "json", "--no-cache", cwd=tmp_path)
    data = json.loads(done.stdout)
    by_line = {f["line"]: f for f in data["findings"]}
    deep = by_line[len(lines)]
    assert deep["code"] == "KA001" and len(deep["trace"]) == 1501
    assert data["errors"] == []


def test_files_that_only_share_a_writers_name_are_not_parsed(buggy: Path) -> None:
    (buggy / "jobs.py").write_text(
        "import asyncio\n\n\nasync def spawn(work):\n    return asyncio.create_task(work())\n"
    )
    (buggy / "dialer.py").write_text("def connect(sock):\n    return sock.connect(('h', 1))\n")
    data = json.loads(run("lint", "--format", "json", "--no-cache", cwd=buggy).stdout)
    assert data["summary"]["files_parsed"] == 2  # board/db.py and board/api.py
    assert len(data["findings"]) == 2


def test_a_folder_named_on_the_command_line_beats_the_excludes(buggy: Path) -> None:
    (buggy / "pyproject.toml").write_text('[tool.kanban-audit]\nextend-exclude = ["board"]\n')
    whole = json.loads(run("lint", "--format", "json", "--no-cache", cwd=buggy).stdout)
    named = run("lint", "--format", "json", "--no-cache", "board", cwd=buggy)
    assert whole["summary"]["files"] == 0
    assert findings(named) == [("board/api.py", 18, "KA001"), ("board/api.py", 29, "KA001")]


def test_file_names_that_are_not_utf8_are_reported_escaped_in_every_format(
    tmp_path: Path,
) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9.py"
    with open(name, "w") as handle:
        handle.write("def f(conn):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n")
    for fmt, shown in [
        ("json", "caf\\\\xe9.py"),
        ("sarif", "caf%5Cxe9.py"),
        ("github", "caf\\xe9.py"),
    ]:
        done = run("lint", "--no-cache", "--format", fmt, cwd=tmp_path)
        assert done.returncode == 1, done.stderr
        assert shown in done.stdout
    text = run("lint", "--no-cache", cwd=tmp_path).stdout
    assert text.startswith("caf\\xe9.py:2:5: KA001 ")


def test_diff_follows_files_whose_names_git_would_quote(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.email=a@b", "-c", "user.name=a", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    (tmp_path / "base.py").write_text("X = 1\n")
    git("add", "-A")
    git("commit", "-qm", "base")
    (tmp_path / "tâche.py").write_text(
        "def f(conn):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"
    )
    done = run("lint", "--diff", "HEAD", "--format", "json", "--no-cache", cwd=tmp_path)
    assert findings(done) == [("tâche.py", 2, "KA001")]
