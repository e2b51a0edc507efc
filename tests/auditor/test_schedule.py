"""Scheduled runs: the guard in the exit code, metrics files, backup retention."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from support import boards
from support.cli import run_cli


def _board(folder: Path, orphans: int = 1) -> Path:
    path = folder / "kanban.db"
    conn = boards.create(path)
    for n in range(orphans):
        boards.direct_write(conn, f"t{n}", int(time.time()))
    conn.close()
    return path


def test_fail_on_guard_missing_counts_the_guard(tmp_path: Path) -> None:
    path = _board(tmp_path, orphans=0)
    assert run_cli("audit", path).returncode == 0
    assert run_cli("audit", path, "--fail-on-guard-missing").returncode == 1
    assert run_cli("guard", "install", path, "--yes").returncode == 0
    assert run_cli("audit", path, "--fail-on-guard-missing").returncode == 0


def test_metrics_are_written_whole_per_board(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _board(root, orphans=2)
    bad = root / "kanban" / "boards" / "bad" / "kanban.db"
    bad.parent.mkdir(parents=True)
    bad.write_text("not a board")
    metrics = tmp_path / "m.prom"
    metrics.write_text("old\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    proc = run_cli("audit", root, "--all-boards", "--metrics-file", metrics, env=env)
    assert proc.returncode == 2
    text = metrics.read_text()
    assert f'kanban_audit_up{{db="{root / "kanban.db"}"}} 1' in text
    assert f'kanban_audit_up{{db="{bad}"}} 0' in text
    assert f'kanban_audit_findings{{db="{root / "kanban.db"}",code="KD001"}} 2' in text
    assert "kanban_audit_exit_code 2" in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.prom")] == []


def test_a_metrics_file_in_a_missing_folder_is_refused_first(tmp_path: Path) -> None:
    path = _board(tmp_path)
    before = boards.board_hash(path)
    proc = run_cli("repair", path, "--apply", "--yes", "--metrics-file", tmp_path / "no" / "m")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert "--metrics-file" in proc.stderr and proc.stderr.count("\n") == 1
    assert boards.board_hash(path) == before
    assert list(tmp_path.glob("*.bak")) == []


def test_keep_backups_removes_only_this_boards_own_backups(tmp_path: Path) -> None:
    path = _board(tmp_path, orphans=1)
    names = [
        "kanban.db.20200101T000000Z.bak",
        "kanban.db.20200101T000000Z-2.bak",
        "kanban.db.20200102T000000Z.bak",
        "other.db.20200101T000000Z.bak",  # another board's
        "kanban.db.20200101T000000Z.bak.txt",  # not a backup name
        "kanban.db.2020.bak",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / "kanban.db.20190101T000000Z.bak").symlink_to(
        tmp_path / "other.db.20200101T000000Z.bak"
    )
    (tmp_path / "kanban.db.20190102T000000Z.bak").mkdir()
    proc = run_cli("repair", path, "--apply", "--yes", "--keep-backups", "2")
    assert proc.returncode == 0, proc.stderr
    removed = sorted(
        line.split(": ", 1)[1] for line in proc.stdout.splitlines() if line.startswith("removed")
    )
    assert removed == sorted(str(tmp_path / n) for n in names[:2])
    left = {p.name for p in tmp_path.iterdir()}
    assert set(names[2:]) <= left
    assert {"kanban.db.20190101T000000Z.bak", "kanban.db.20190102T000000Z.bak"} <= left
    stamped = re.compile(r"kanban\.db\.\d{8}T\d{6}Z(-\d+)?\.bak")
    ours = sorted(
        p.name
        for p in tmp_path.iterdir()
        if stamped.fullmatch(p.name) and p.is_file() and not p.is_symlink()
    )
    assert len(ours) == 2 and ours[0] == "kanban.db.20200102T000000Z.bak"  # and the new one
    assert run_cli("repair", path, "--keep-backups", "0").returncode == 2
