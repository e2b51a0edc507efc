"""The guard against every real Hermes release: the bug is refused, Hermes still works.

With the guard installed, a fresh Hermes process (whose first `connect()`
runs the schema, the migrations and the back-fill of the board's orphan)
runs every legitimate path into and out of `running`, Hermes' own sweeps,
and the dashboard's writes. Only the writes into `running` without a claim
are refused.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hermes_boards import Board
from support import hermes
from support.cli import run_cli
from support.db import row_hashes, rows

REFUSAL = "kanban-audit guard: only the claim path may set tasks.status to 'running'"
PATCH_REFUSAL = "Cannot set status to 'running' directly; use the dispatcher/claim path"


def _install(board: Board) -> None:
    proc = run_cli("guard", "install", board.db, "--yes")
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stderr


def _claim_steps(name: str, pid: int) -> list[dict[str, Any]]:
    return [
        {"op": "create", "name": name},
        {"op": "claim", "task": name},
        {"op": "set_pid", "task": name, "pid": pid},
    ]


@pytest.mark.parametrize("version", list(hermes.RELEASES))
def test_guard_refuses_the_bug_and_lets_hermes_work(board: Board, version: str) -> None:
    _install(board)
    ready = board.ids["ready"]
    untouched = row_hashes(board.db, "tasks", "id")[ready]
    events = rows(board.db, "SELECT count(*) FROM task_events WHERE task_id = ?", ready)
    steps: list[dict[str, Any]] = [
        # The claim path, the worker's heartbeats, completion.
        *_claim_steps("worked", board.live_pid),
        {"op": "heartbeat_claim", "task": "worked"},
        {"op": "heartbeat_worker", "task": "worked"},
        {"op": "complete", "task": "worked"},
        # Block, unblock, claim again.
        *_claim_steps("blocked", board.live_pid),
        {"op": "block", "task": "blocked"},
        {"op": "unblock", "task": "blocked"},
        {"op": "claim", "task": "blocked"},
        # The review claim (0.15.0 and later); no released function moves a task
        # into review, so a plain status write does.
        {"op": "create", "name": "reviewed"},
        {"op": "set", "task": "reviewed", "status": "review"},
        {"op": "claim_review", "task": "reviewed"},
        # The bug: the dashboard's direct write, a plain UPDATE, the bulk and PATCH endpoints.
        {"op": "direct", "task": "ready", "status": "running"},
        {"op": "set", "task": "ready", "status": "running"},
        {"op": "bulk", "tasks": ["ready"], "status": "running"},
        {"op": "patch", "task": "ready", "status": "running"},
        # Every other state through the same direct writer.
        {"op": "create", "name": "moved"},
        {"op": "direct", "task": "moved", "status": "todo"},
        {"op": "direct", "task": "moved", "status": "triage"},
        {"op": "direct", "task": "moved", "status": "ready"},
        {"op": "direct", "task": "blocked", "status": "ready"},
        # The board's own sweeps and its migrations and back-fill again.
        {"op": "release_stale"},
        {"op": "detect_crashed"},
        {"op": "init"},
    ]
    results = board.drive(*steps, env={"HERMES_KANBAN_CRASH_GRACE_SECONDS": "0"})
    done = [
        (" ".join(str(v) for k, v in step.items() if k != "pid"), result)
        for step, result in zip(steps, results, strict=True)
    ]
    by_step = dict(done)  # the refused and checked steps below occur once

    refused = [by_step["direct ready running"], by_step["set ready running"]]
    assert all(r["error"].startswith(f"IntegrityError: {REFUSAL}") for r in refused), refused
    (bulk,) = by_step["bulk ['ready'] running"]["ok"]
    if version in hermes.BULK_BUG:
        # The bug-era bulk endpoint catches the refusal per task and reports it.
        assert bulk["ok"] is False and bulk["error"].startswith(REFUSAL)
    else:
        assert bulk == {"id": ready, "ok": False, "error": PATCH_REFUSAL}
    assert by_step["patch ready running"] == {"http": 400, "detail": PATCH_REFUSAL}
    assert row_hashes(board.db, "tasks", "id")[ready] == untouched
    assert rows(board.db, "SELECT count(*) FROM task_events WHERE task_id = ?", ready) == events

    # Every legitimate step succeeded: no error, no refusal, nothing returned False.
    legitimate = [(step, r) for step, r in done if "ready running" not in step]
    assert [(step, r) for step, r in legitimate if r.get("ok", True) is False or "error" in r] == []
    has_review = version not in {"0.13.0", "0.14.0"}
    assert by_step["claim_review reviewed"] == (
        {"ok": True} if has_review else {"absent": "claim_review_task"}
    )
    statuses = {
        n: board.task(n)["status"] for n in ("worked", "blocked", "moved", "reviewed", "orphan")
    }
    assert statuses == {
        "worked": "done",
        "blocked": "ready",
        "moved": "ready",
        "reviewed": "running" if has_review else "review",
        "orphan": "running",
    }
    # connect()'s back-fill gave the orphan its open run through the guard.
    assert board.task("orphan")["current_run_id"] is not None
    assert (by_step["release_stale"], by_step["detect_crashed"]) == ({"ok": 1}, {"ok": ["dead"]})
    assert run_cli("guard", "status", board.db).returncode == 0

    proc = run_cli("guard", "remove", board.db, "--yes")
    assert (proc.returncode, proc.stderr) == (0, "")
    conn = sqlite3.connect(board.db, isolation_level=None)
    try:
        conn.execute("UPDATE tasks SET status = 'running' WHERE id = ?", (ready,))
    finally:
        conn.close()
    assert board.task("ready")["status"] == "running"
