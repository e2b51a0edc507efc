"""repair: dry run, exact repairs, backup, idempotency, races, locks and kills."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
from support import boards
from support.cli import KANBAN_AUDIT, run_cli, run_json
from support.tty import run_tty

from kanban_audit.auditor import liveness
from kanban_audit.auditor.checks import Options, audit_board
from kanban_audit.auditor.repair import REPAIRED, SKIPPED, execute
from kanban_audit.rulepack import load_pack

REPAIRABLE = {
    "direct",
    "dead",
    "zombie",
    "reused",
    "expired-dead",
    "never-spawned",
    "ended-run",
    "foreign-run",
    "backfilled",
    "dangling",
}


def backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.bak"))


def test_dry_run_changes_nothing(full_board: dict[str, Any]) -> None:
    path = full_board["path"]
    before = boards.board_hash(path)
    proc = run_cli("repair", path, "--now", full_board["now"])
    assert proc.returncode == 1
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[-1] == "dry run: 10 repairs planned; --apply to write"
    assert boards.board_hash(path) == before
    assert backups(path.parent) == []


def test_apply_repairs_exactly_the_orphans(full_board: dict[str, Any]) -> None:
    path, now = full_board["path"], full_board["now"]
    tasks_before = boards.row_hashes(path, "tasks", "id")
    runs_before = boards.row_hashes(path, "task_runs", "id")
    code, doc = run_json("repair", path, "--apply", "--yes", "--now", now)
    assert code == 0
    assert doc["applied"] is True
    assert {r["task_id"] for r in doc["results"]} == REPAIRABLE
    assert {r["result"] for r in doc["results"]} == {REPAIRED}

    tasks_after = boards.row_hashes(path, "tasks", "id")
    changed = {t for t in tasks_before if tasks_before[t] != tasks_after[t]}
    assert changed == REPAIRABLE - {"dangling"}
    for task_id in changed:
        row = boards.rows(
            path,
            "SELECT status, claim_lock, claim_expires, worker_pid, current_run_id"
            " FROM tasks WHERE id = ?",
            task_id,
        )
        assert row == [("ready", None, None, None, None)], task_id

    runs_after = boards.row_hashes(path, "task_runs", "id")
    closed = {r for r in runs_before if runs_before[r] != runs_after[r]}
    closed_rows = boards.rows(
        path,
        "SELECT task_id, ended_at, status, outcome, error FROM task_runs WHERE id IN"
        f" ({','.join(map(str, closed))})",
    )
    assert {r[0] for r in closed_rows} == {
        "dead",
        "zombie",
        "reused",
        "expired-dead",
        "never-spawned",
        "backfilled",
        "dangling",
    }
    for task_id, ended_at, status, outcome, error in closed_rows:
        assert (ended_at, status, outcome) == (now, "reclaimed", "reclaimed"), task_id
        assert error.startswith("kanban-audit repair: KD00")
    # A closed run keeps no claim, as Hermes' own closers (_end_run) leave it.
    claims = boards.rows(
        path,
        "SELECT id, claim_lock, claim_expires, worker_pid FROM task_runs WHERE id IN"
        f" ({','.join(map(str, closed))})",
    )
    assert {c[1:] for c in claims} == {(None, None, None)}

    events = boards.rows(
        path, "SELECT task_id, run_id, payload FROM task_events WHERE kind = 'reconciled'"
    )
    assert sorted(e[0] for e in events) == sorted(REPAIRABLE)
    payload = json.loads(next(e[2] for e in events if e[0] == "direct"))
    assert payload["codes"] == ["KD001", "KD002"]
    assert payload["prior"]["task"]["status"] == "running"
    assert payload["evidence"]["cause"]["path"] == "direct-write"
    dead = json.loads(next(e[2] for e in events if e[0] == "dead"))
    (run_id,) = dead["prior"]["open_runs"]
    assert dead["prior"]["runs"] == {
        str(run_id): {
            "claim_lock": f"{boards.HOST}:{boards.DISPATCHER_PID}",
            "claim_expires": now - 60 + 900,
            "worker_pid": dead["prior"]["task"]["worker_pid"],
        }
    }

    saved = Path(doc["backup"])
    assert saved.parent == path.parent and saved.exists()


def test_backup_is_a_readable_pre_repair_copy(full_board: dict[str, Any], tmp_path: Path) -> None:
    path = full_board["path"]
    before = boards.board_hash(path)
    folder = tmp_path / "backups"
    proc = run_cli("repair", path, "--apply", "--yes", "--backup-dir", folder)
    assert proc.returncode == 0, proc.stderr
    (saved,) = backups(folder)
    assert f"backup: {saved}" in proc.stdout.splitlines()
    assert boards.rows(saved, "PRAGMA integrity_check") == [("ok",)]
    assert boards.board_hash(saved) == before
    assert boards.board_hash(path) != before
    assert backups(path.parent) == []


def test_second_apply_finds_nothing_and_changes_nothing(full_board: dict[str, Any]) -> None:
    path = full_board["path"]
    first = run_cli("repair", path, "--apply", "--yes", "--no-backup")
    assert first.returncode == 0, first.stderr
    assert backups(path.parent) == []
    after_first = boards.board_hash(path)
    second = run_cli("repair", path, "--apply", "--yes")
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1] == "repaired 0, skipped 0"
    assert boards.board_hash(path) == after_first
    assert backups(path.parent) == []
    code, doc = run_json("repair", path)
    assert (code, doc["findings"] != [], doc["summary"]["repairable"]) == (0, True, 0)


def test_force_demotes_live_and_remote_tasks(full_board: dict[str, Any]) -> None:
    path = full_board["path"]
    code, doc = run_json("repair", path, "--apply", "--yes", "--force", "--no-backup")
    assert code == 0
    assert {r["task_id"] for r in doc["results"]} == REPAIRABLE | {
        "lapsed-alive",
        "remote-expired",
    }
    healthy = boards.rows(path, "SELECT id FROM tasks WHERE status = 'running' ORDER BY id")
    assert healthy == [("fresh",), ("live",), ("remote",)]


def _reclaim(conn: sqlite3.Connection, task_id: str, pid: int) -> None:
    """What the dispatcher does when it claims the task again."""
    conn.execute(
        "UPDATE tasks SET claim_lock = ?, claim_expires = ?, worker_pid = ?,"
        " last_heartbeat_at = ? WHERE id = ?",
        (f"{boards.HOST}:7", int(time.time()) + 900, pid, int(time.time()), task_id),
    )


def test_change_between_plan_and_apply_is_skipped(
    full_board: dict[str, Any], worker: psutil.Process
) -> None:
    """Plan, then the dispatcher claims one task and the worker finishes another, then apply."""
    path, now = full_board["path"], full_board["now"]
    pack = load_pack()
    plan = audit_board(path, pack, Options(now, 120, liveness.local_hostname()), 5000)
    other = sqlite3.connect(path, isolation_level=None)
    _reclaim(other, "dead", worker.pid)
    other.execute("UPDATE tasks SET status = 'done' WHERE id = 'direct'")
    other.execute("UPDATE task_runs SET ended_at = ? WHERE task_id = 'dangling'", (now,))
    other.close()
    reclaimed = boards.row_hashes(path, "tasks", "id")

    outcomes = execute(
        path, pack, plan, busy_timeout_ms=5000, now=now, backup_dir=None, make_backup=False
    ).outcomes
    results = {o.task_id: (o.result, o.detail) for o in outcomes}
    assert results["dead"] == (
        SKIPPED,
        f"claim_lock changed from '{boards.HOST}:4242' to '{boards.HOST}:7'",
    )
    assert results["direct"] == (SKIPPED, "status changed from 'running' to 'done'")
    assert results["dangling"][0] == SKIPPED
    assert {t for t, (r, _) in results.items() if r == REPAIRED} == REPAIRABLE - {
        "dead",
        "direct",
        "dangling",
    }
    after = boards.row_hashes(path, "tasks", "id")
    assert after["dead"] == reclaimed["dead"] and after["direct"] == reclaimed["direct"]
    assert boards.rows(
        path,
        "SELECT count(*) FROM task_events WHERE task_id IN"
        " ('dead', 'direct', 'dangling') AND kind = 'reconciled'",
    ) == [(0,)]


def test_claim_racing_a_running_repair_is_not_overwritten(
    full_board: dict[str, Any], worker: psutil.Process
) -> None:
    """The dispatcher holds the write lock and claims while the repair plans; repair waits."""
    path = full_board["path"]
    dispatcher = sqlite3.connect(path, isolation_level=None)
    dispatcher.execute("BEGIN IMMEDIATE")
    _reclaim(dispatcher, "zombie", worker.pid)
    repair = subprocess.Popen(
        [KANBAN_AUDIT, "repair", path, "--apply", "--yes", "--busy-timeout", "30000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert repair.stdout is not None
    plan = []
    for line in repair.stdout:
        plan.append(line)
        if "repairable)" in line:
            break
    assert any(line.startswith("zombie ") for line in plan), plan
    dispatcher.execute("COMMIT")
    claimed = boards.row_hashes(path, "tasks", "id")["zombie"]
    out, err = repair.communicate(timeout=60)
    assert (repair.returncode, err) == (1, "")
    assert "skipped zombie: claim_lock changed" in out
    assert boards.row_hashes(path, "tasks", "id")["zombie"] == claimed
    assert "repaired 9, skipped 1" in out


def test_held_write_lock_gives_exit_2_and_no_write(full_board: dict[str, Any]) -> None:
    path = full_board["path"]
    before = boards.board_hash(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        audit = run_cli("audit", path, "--busy-timeout", "100")
        assert audit.returncode == 1, audit.stderr
        started = time.monotonic()
        proc = run_cli("repair", path, "--apply", "--yes", "--busy-timeout", "300")
        assert time.monotonic() - started < 10
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "board is locked" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert boards.board_hash(path) == before
    assert backups(path.parent) == []


def test_sigkill_during_repair_leaves_no_half_repaired_task(tmp_path: Path) -> None:
    path = tmp_path / "kanban.db"
    total = 6000
    boards.orphans(path, total)
    before = boards.row_hashes(path, "tasks", "id")
    repair = subprocess.Popen(
        [KANBAN_AUDIT, "repair", path, "--apply", "--yes", "--no-backup"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watcher = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    deadline = time.monotonic() + 30
    while (
        watcher.execute("SELECT count(*) FROM task_events WHERE kind = 'reconciled'").fetchone()[0]
        < 50
    ):
        assert time.monotonic() < deadline and repair.poll() is None
        time.sleep(0.002)
    repair.send_signal(signal.SIGKILL)
    repair.wait()
    watcher.close()

    assert boards.rows(path, "PRAGMA integrity_check") == [("ok",)]
    after = boards.row_hashes(path, "tasks", "id")
    state = boards.rows(
        path,
        "SELECT t.id, t.status, t.claim_lock IS NULL, r.ended_at IS NOT NULL,"
        " (SELECT count(*) FROM task_events e WHERE e.task_id = t.id AND e.kind = 'reconciled')"
        " FROM tasks t JOIN task_runs r ON r.task_id = t.id",
    )
    repaired = [s for s in state if s[1] == "ready"]
    untouched = [s for s in state if s[1] == "running"]
    assert 0 < len(repaired) < total
    assert len(repaired) + len(untouched) == total
    assert all(s[2:] == (1, 1, 1) for s in repaired)
    assert all(s[2:] == (0, 0, 0) and after[s[0]] == before[s[0]] for s in untouched)


def test_apply_asks_for_confirmation_on_a_terminal(full_board: dict[str, Any]) -> None:
    path = full_board["path"]
    before = boards.board_hash(path)
    run = run_tty("repair", path, "--apply", answers={b"[y/N]": b"n\n"})
    assert run.code == 2  # declined: nothing written
    assert "Repair 10 tasks in" in run.tty
    assert boards.board_hash(path) == before
    assert backups(path.parent) == []


def test_run_without_claim_columns_is_closed(tmp_path: Path, dead_pid: int) -> None:
    """A run table without claim_lock, claim_expires and worker_pid: the run is still closed."""
    now = int(time.time())
    path = tmp_path / "old-runs.db"
    schema = boards.SCHEMA.read_text()
    for column in ("claim_lock TEXT", "claim_expires INTEGER", "worker_pid INTEGER"):
        head, runs = schema.split("CREATE TABLE IF NOT EXISTS task_runs", 1)
        schema = (
            head + "CREATE TABLE IF NOT EXISTS task_runs" + runs.replace(f"    {column},\n", "", 1)
        )
    conn = boards.create(path, schema=schema)
    assert "claim_lock" not in {r[1] for r in conn.execute("PRAGMA table_info(task_runs)")}
    run_id = boards.add_run(conn, "o", now - 60)
    boards.add_task(
        conn, "o", "running", now, started_at=now - 60, claim_lock=f"{boards.HOST}:1",
        claim_expires=now + 900, worker_pid=dead_pid, current_run_id=run_id,
    )  # fmt: skip
    conn.close()
    proc = run_cli("repair", path, "--apply", "--yes", "--now", now)
    assert proc.returncode == 0, proc.stderr
    assert boards.rows(path, "SELECT ended_at, outcome FROM task_runs") == [(now, "reclaimed")]


def test_run_claimed_again_before_the_repair_is_skipped(tmp_path: Path) -> None:
    """A run's claim is compared too: a dangling run that got a worker meanwhile is left alone."""
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    run_id = boards.dangling_run(conn, "d", now)
    conn.close()
    pack = load_pack()
    plan = audit_board(path, pack, Options(now, 120, liveness.local_hostname()), 5000)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("UPDATE task_runs SET worker_pid = 77 WHERE id = ?", (run_id,))
    other.close()
    done = execute(
        path, pack, plan, busy_timeout_ms=5000, now=now, backup_dir=None, make_backup=False
    )
    assert [(o.result, o.detail) for o in done.outcomes] == [
        (SKIPPED, f"run #{run_id} was closed or reclaimed meanwhile")
    ]
    assert boards.rows(path, "SELECT ended_at, worker_pid FROM task_runs") == [(None, 77)]
