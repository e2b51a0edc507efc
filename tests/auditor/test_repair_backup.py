"""Every repair gets a backup of its own: created exclusively, never shared, reused or followed."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import time
from pathlib import Path

from support import boards
from support.cli import KANBAN_AUDIT, run_cli

from kanban_audit.auditor import repair

# Three repairs confirmed at once, four times: check-then-create naming collides
# in most rounds, exclusive creation in none.
REPAIRS = 3
ROUNDS = 4


def _board(path: Path, orphans: int) -> None:
    """A board whose content differs with `orphans`, so each backup can be told apart."""
    now = int(time.time())
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = boards.create(path)
    for i in range(orphans):
        boards.direct_write(conn, f"t{i}", now)
    conn.close()


def _start(path: Path, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(KANBAN_AUDIT), "repair", str(path), "--apply", "--yes", "--format", "json"]
        + [str(a) for a in args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _confirm_together(paths: list[Path], *args: object) -> list[dict]:
    """Start one repair a board, each on its own terminal; once all ask, say yes to all at once.

    The question is a barrier: the repairs then reach their backups within a
    fraction of a millisecond of each other, which is where names collide.
    """
    started = []
    for path in paths:
        leader, follower = pty.openpty()
        cmd = [str(KANBAN_AUDIT), "repair", str(path), "--apply", "--format", "json"]
        proc = subprocess.Popen(
            cmd + [str(a) for a in args], stdin=follower, stdout=follower, stderr=follower
        )
        os.close(follower)
        started.append((proc, leader))
    seen = [b""] * len(started)
    deadline = time.monotonic() + 60
    while not all(b"[y/N]" in s for s in seen):
        assert time.monotonic() < deadline, seen
        for i, (_, leader) in enumerate(started):
            if select.select([leader], [], [], 0.01)[0]:
                seen[i] += os.read(leader, 65536)
    for _, leader in started:
        os.write(leader, b"y\n")
    docs = []
    for i, (proc, leader) in enumerate(started):
        while chunk := _read(leader):
            seen[i] += chunk
        assert proc.wait(timeout=60) == 0, seen[i]
        os.close(leader)
        docs.append(json.loads(seen[i].decode().splitlines()[-1]))
    return docs


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the command has exited
        return b""


def test_repairs_started_together_never_share_a_backup(tmp_path: Path) -> None:
    """Boards named alike, one backup folder, one clock: each backup holds its own board."""
    for round_ in range(ROUNDS):
        folder = tmp_path / f"round{round_}" / "backups"
        paths = [folder.parent / f"host{i}" / "kanban.db" for i in range(REPAIRS)]
        for i, path in enumerate(paths):
            _board(path, i + 1)
        before = [boards.board_hash(path) for path in paths]
        now = int(time.time()) + 60
        docs = _confirm_together(paths, "--backup-dir", folder, "--now", now)
        saved = [Path(doc["backup"]) for doc in docs]
        assert len(set(saved)) == REPAIRS
        assert sorted(folder.iterdir()) == sorted(saved)
        for backup, board in zip(saved, before, strict=True):
            assert boards.board_hash(backup) == board, backup


def test_two_repairs_of_one_board_back_up_to_two_files(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    _board(path, 200)
    now = int(time.time()) + 60
    procs = [_start(path, "--now", now) for _ in range(2)]
    docs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 1) and err == "", err
        docs.append(json.loads(out))
    made = [Path(d["backup"]) for d in docs if d["backup"]]
    assert len(made) == len(set(made)) == len(list(tmp_path.glob("*.bak")))
    for backup in made:
        assert boards.rows(backup, "PRAGMA integrity_check") == [("ok",)]
    repaired = [r["task_id"] for d in docs for r in d["results"] if r["result"] == "repaired"]
    assert sorted(repaired) == sorted(f"t{i}" for i in range(200))  # each task once


def _first_name(path: Path, now: int) -> Path:
    return path.parent / f"{path.name}.{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))}.bak"


def test_a_planted_link_at_the_backup_name_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    _board(path, 3)
    now = int(time.time())
    target = tmp_path / "elsewhere" / "stolen.db"
    target.parent.mkdir()
    _first_name(path, now).symlink_to(target)
    taken = _first_name(path, now).with_name(_first_name(path, now).name[: -len(".bak")] + "-2.bak")
    taken.write_text("someone else's file")
    proc = run_cli("repair", path, "--apply", "--yes", "--now", now)
    assert proc.returncode == 0, proc.stderr
    assert not target.exists()
    assert taken.read_text() == "someone else's file"
    (line,) = [line for line in proc.stdout.splitlines() if line.startswith("backup: ")]
    saved = Path(line.removeprefix("backup: "))
    assert saved.name.endswith("-3.bak") and not saved.is_symlink()
    assert boards.rows(saved, "SELECT count(*) FROM tasks") == [(3,)]


def test_a_backup_is_as_readable_as_its_board(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    _board(path, 1)
    os.chmod(path, 0o600)
    proc = run_cli("repair", path, "--apply", "--yes")
    assert proc.returncode == 0, proc.stderr
    (saved,) = tmp_path.glob("*.bak")
    assert saved.stat().st_mode & 0o777 == 0o600


def test_a_backup_is_one_self_contained_rollback_journal_file(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    _board(path, 2)
    assert run_cli("repair", path, "--apply", "--yes").returncode == 0
    (saved,) = tmp_path.glob("*.bak")
    conn = sqlite3.connect(f"file:{saved}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        running = conn.execute("SELECT count(*) FROM tasks WHERE status = 'running'").fetchone()
        assert running == (2,)  # the board as it was before the repair
    finally:
        conn.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(saved.name)) == [
        saved.name
    ]


def test_a_name_swapped_for_a_link_after_creation_is_not_written_through(
    tmp_path: Path, monkeypatch
) -> None:
    """Another user who may write the backup folder replaces the new name with a
    link between its creation and the copy: the copy goes to the file created,
    never to the link's target."""
    path = tmp_path / "kanban.db"
    _board(path, 1)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    folder = tmp_path / "backups"
    taken = repair._snapshot

    def swapped(conn: sqlite3.Connection):
        (created,) = folder.iterdir()
        created.unlink()
        created.symlink_to(victim)
        return taken(conn)

    monkeypatch.setattr(repair, "_snapshot", swapped)
    conn = sqlite3.connect(path)
    try:
        repair.backup(conn, path, folder, time.time())
    finally:
        conn.close()
    assert victim.read_text() == "precious\n"
