"""repair against a live board: a real dispatcher and the real dashboard bug at work.

While one process runs a dispatcher loop with a release's real functions
(claim, record the worker, heartbeat, complete) and another keeps creating
orphans through the real dashboard `_set_status_direct`, `repair --apply`
runs again and again. Nothing the dispatcher legitimately holds may be
touched, and the board must come out consistent.

Hermes 0.15.0 and later cannot share a board with any other writing process
(test_file_lock.py shows why), so the race runs on 0.14.0, the last release
that can, and the one whose dashboard still makes orphans.
"""

from __future__ import annotations

import json

import pytest
from hermes_boards import Board
from support import hermes
from support.cli import run_cli
from support.db import rows

SECONDS = 4.0


@pytest.mark.parametrize("version", ["0.14.0"])
def test_repair_races_a_real_dispatcher_and_the_dashboard(board: Board) -> None:
    dispatcher = hermes.start(board.version, board.home, [{"op": "dispatch", "seconds": SECONDS}])
    dashboard = hermes.start(board.version, board.home, [{"op": "orphans", "seconds": SECONDS}])
    repaired_meanwhile = 0
    while dispatcher.poll() is None or dashboard.poll() is None:
        proc = run_cli("repair", board.db, "--apply", "--yes", "--no-backup", "--format", "json")
        assert proc.returncode in (0, 1), proc.stderr
        repaired_meanwhile += json.loads(proc.stdout)["summary"]["repaired"]
    [dispatched], [orphans] = hermes.finish(dispatcher), hermes.finish(dashboard)
    assert "ok" in dispatched and "ok" in orphans, (dispatched, orphans)
    dispatched, orphans = dispatched["ok"], orphans["ok"]
    final = run_cli("repair", board.db, "--apply", "--yes", "--no-backup")
    assert final.returncode == 0, final.stderr

    claimed = {board.ids[name] for name in dispatched["claimed"]}
    made = {board.ids[name] for name in orphans}
    assert dispatched["lost"] == []
    assert len(claimed) >= 5 and len(made) >= 5
    assert repaired_meanwhile > 0
    # Every task the dispatcher claimed ran to completion, untouched by the repair.
    states = dict(rows(board.db, "SELECT id, status FROM tasks"))
    assert {states[t] for t in claimed} == {"done"}
    reconciled = rows(board.db, "SELECT task_id, run_id FROM task_events WHERE kind = 'reconciled'")
    assert not claimed & {task for task, _ in reconciled}
    # Every orphan was demoted, each with one event, each event about a closed run (if any).
    assert {states[t] for t in made} == {"ready"}
    assert sorted(task for task, _ in reconciled if task in made) == sorted(made)
    ended = dict(rows(board.db, "SELECT id, ended_at FROM task_runs"))
    assert all(ended[run] is not None for _, run in reconciled if run is not None)
    two_open = (
        "SELECT task_id FROM task_runs WHERE ended_at IS NULL GROUP BY task_id HAVING count(*) > 1"
    )
    assert rows(board.db, two_open) == []
    assert rows(board.db, "PRAGMA integrity_check") == [("ok",)]
    # And the release's own claim path takes the repaired orphans back.
    names = sorted(orphans)[:5]
    assert board.drive(*({"op": "claim", "task": n} for n in names)) == [{"ok": True}] * 5
