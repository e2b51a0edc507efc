"""`-o` and `--write-baseline` write a whole file or leave the old one as it was."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
from pathlib import Path

import pytest
from support.cli import KANBAN_AUDIT

from .harness import service

OLD = "the previous report\n"


@pytest.fixture
def buggy(tmp_path: Path) -> Path:
    return service(tmp_path / "svc")


def lint(cwd: Path, *args: str, max_file_bytes: int | None = None) -> subprocess.CompletedProcess:
    """The installed command; with `max_file_bytes`, writes beyond it fail as on a full disk."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [str(KANBAN_AUDIT), "lint", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        preexec_fn=limit if max_file_bytes is not None else None,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.mark.parametrize(
    ("option", "name", "fmt"),
    [("--output", "report.sarif", "sarif"), ("--write-baseline", "baseline.json", "text")],
)
def test_a_write_that_fails_midway_leaves_the_previous_file_whole(
    buggy: Path, option: str, name: str, fmt: str
) -> None:
    (buggy / name).write_text(OLD)
    done = lint(buggy, "--format", fmt, option, name, max_file_bytes=300)
    assert done.returncode == 2
    assert done.stderr.startswith("kanban-audit: error: ") and len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert (buggy / name).read_text() == OLD
    assert sorted(p.name for p in buggy.iterdir() if p.name.startswith(".")) == []


def test_a_report_replaces_the_file_a_symlink_points_to_and_keeps_its_mode(buggy: Path) -> None:
    (buggy / "real.json").write_text(OLD)
    (buggy / "real.json").chmod(0o640)
    (buggy / "link.json").symlink_to("real.json")
    done = lint(buggy, "--format", "json", "-o", "link.json")
    assert done.returncode == 1 and done.stdout == ""
    assert (buggy / "link.json").is_symlink()
    assert len(json.loads((buggy / "real.json").read_text())["findings"]) == 2
    assert stat.S_IMODE((buggy / "real.json").stat().st_mode) == 0o640


def test_a_new_report_gets_the_usual_mode(buggy: Path) -> None:
    lint(buggy, "-o", "new.txt")
    assert stat.S_IMODE((buggy / "new.txt").stat().st_mode) == 0o666 & ~_umask()


def test_output_to_a_device_is_written_in_place(buggy: Path) -> None:
    done = lint(buggy, "--format", "json", "-o", "/dev/stdout")
    assert done.returncode == 1
    assert len(json.loads(done.stdout)["findings"]) == 2
    assert Path("/dev/stdout").exists()


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
