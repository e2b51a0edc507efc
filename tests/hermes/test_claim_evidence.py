"""What a claim proves, on boards the real Hermes `claim_task` wrote.

A PID is evidence only on the host that wrote it, and Hermes names that host
in `claim_lock` as `"<hostname>:<pid>"`. A lock in any other form does not
say the worker runs here, so its live worker is never demoted without
`--force`. And a claim without a worker PID (a lane that claims with a
one-shot process never records one) is alive until its claim expires, as
Hermes' own sweeps treat it.
"""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from support import hermes
from support.cli import run_json
from support.db import board_hash, rows

HOST = socket.gethostname()
# Claim locks that do not name exactly this host in Hermes' form.
NOT_THIS_HOST = {
    "fqdn": "worker-2.example",
    "no-host": ":4242",
    "bare-host": HOST,
    "colon": ":",
    "no-pid": f"{HOST}:",
    "pid-zero": f"{HOST}:0",
    "two-colons": f"{HOST}:{HOST}:4242",
}
# The oldest and the newest release: the claim path is the same in between.
VERSIONS = ["0.13.0", "0.19.0"]


def _task(db: Path, task_id: str) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone())
    finally:
        conn.close()


def _open_runs(db: Path) -> list[tuple[Any, ...]]:
    return rows(db, "SELECT id, task_id FROM task_runs WHERE ended_at IS NULL ORDER BY id")


@pytest.mark.parametrize("version", VERSIONS)
def test_a_lock_not_naming_this_host_keeps_its_live_worker(
    tmp_path: Path, version: str, live_pid: int
) -> None:
    """Claims whose lock is not `<this host>:<pid>`, each with a live local worker
    and a lapsed claim: KD003+KD006, not repairable, and repair leaves them be."""
    home = tmp_path / "home"
    home.mkdir()
    steps: list[dict[str, Any]] = []
    for name, lock in NOT_THIS_HOST.items():
        steps += [
            {"op": "create", "name": name},
            {"op": "claim", "task": name, "claimer": lock, "ttl": 60},
            {"op": "set_pid", "task": name, "pid": live_pid},
        ]
    results = hermes.drive(version, home, *steps)
    assert all("ok" in r and r["ok"] is not False for r in results), results
    db = home / "kanban.db"
    ids = {v: k for k, v in hermes_names(home).items()}
    later = max(_task(db, i)["claim_expires"] for i in ids) + 3600

    code, doc = run_json("audit", db, "--now", later)
    assert code == 1
    found = {ids[f["task_id"]]: (f["codes"], f["repairable"]) for f in doc["findings"]}
    assert found == {name: (["KD003", "KD006"], False) for name in NOT_THIS_HOST}

    before, runs = board_hash(db), _open_runs(db)
    code, doc = run_json("repair", db, "--apply", "--yes", "--now", later)
    assert (code, doc["results"]) == (0, [])
    assert board_hash(db) == before and _open_runs(db) == runs


def test_a_pid_with_no_lock_column_is_no_local_evidence(tmp_path: Path, live_pid: int) -> None:
    """A board without `claim_lock` cannot say where a PID was written: a lapsed
    claim with a live worker is KD006, never demoted without --force."""
    home = tmp_path / "home"
    home.mkdir()
    steps = [
        {"op": "create", "name": "worked"},
        {"op": "claim", "task": "worked", "ttl": 60},
        {"op": "set_pid", "task": "worked", "pid": live_pid},
    ]
    assert all("ok" in r for r in hermes.drive(VERSIONS[-1], home, *steps))
    db = home / "kanban.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("ALTER TABLE tasks DROP COLUMN claim_lock")
    conn.close()
    (task_id,) = hermes_names(home).values()
    later = _task(db, task_id)["claim_expires"] + 3600

    code, doc = run_json("audit", db, "--now", later)
    assert code == 1
    (finding,) = doc["findings"]
    assert (finding["codes"], finding["repairable"]) == (["KD003", "KD006"], False)
    skipped = {s["check"]: s["reason"] for s in doc["summary"]["skipped_checks"]}
    assert "KD006" not in skipped and "claim_lock" in skipped["KD004"]
    before = board_hash(db)
    code, doc = run_json("repair", db, "--apply", "--yes", "--now", later)
    assert (code, doc["results"]) == (0, [])
    assert board_hash(db) == before


@pytest.mark.parametrize("version", VERSIONS)
def test_a_claim_without_a_pid_lives_until_it_expires(tmp_path: Path, version: str) -> None:
    """An interactive lane claims with Hermes' own claim_task (one process, no
    worker PID), another task has just heartbeated: five minutes later neither
    is a finding, repair writes nothing and Hermes' own sweep agrees; once the
    claim lapses it is KD003, repaired, and Hermes can claim the task again."""
    home = tmp_path / "home"
    home.mkdir()
    results = hermes.drive(
        version,
        home,
        {"op": "create", "name": "lane"},
        {"op": "claim", "task": "lane", "ttl": 3600},
        {"op": "create", "name": "beat"},
        {"op": "claim", "task": "beat", "ttl": 60},
        {"op": "heartbeat_claim", "task": "beat"},
    )
    assert [results[i]["ok"] for i in (1, 3, 4)] == [True, True, True], results
    db = home / "kanban.db"
    names = hermes_names(home)
    lane, beat = _task(db, names["lane"]), _task(db, names["beat"])
    assert lane["worker_pid"] is None and lane["claim_lock"].startswith(f"{HOST}:")
    five_minutes = max(lane["started_at"], beat["started_at"]) + 300

    before = board_hash(db)
    code, doc = run_json("audit", db, "--now", five_minutes)
    assert (code, doc["findings"]) == (0, [])
    code, doc = run_json("repair", db, "--apply", "--yes", "--now", five_minutes)
    assert (code, doc["results"]) == (0, [])
    assert board_hash(db) == before
    assert hermes.drive(version, home, {"op": "release_stale"}) == [{"ok": 0}]

    lapsed = lane["claim_expires"] + 121
    code, doc = run_json("audit", db, "--now", lapsed)
    found = {f["task_id"]: (f["codes"], f["repairable"]) for f in doc["findings"]}
    assert found[names["lane"]] == (["KD003"], True)
    code, doc = run_json("repair", db, "--apply", "--yes", "--now", lapsed)
    assert code == 0 and names["lane"] in {r["task_id"] for r in doc["results"]}
    assert hermes.drive(version, home, {"op": "claim", "task": "lane"}) == [{"ok": True}]


def hermes_names(home: Path) -> dict[str, str]:
    """The driver's task names and the ids Hermes gave them."""
    return json.loads((home / "names.json").read_text())
