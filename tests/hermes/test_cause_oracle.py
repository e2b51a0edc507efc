"""A plain `UPDATE tasks SET status = 'running'` is named a direct write, before and after
Hermes' own `connect()` back-fills a run for it (the release's real functions write both)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import hermes
from support.cli import run_cli
from support.db import rows


def _findings(db: Path) -> dict[str, dict[str, object]]:
    proc = run_cli("audit", db, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    return {f["task_id"]: f for f in json.loads(proc.stdout)["findings"]}


@pytest.mark.parametrize("version", ["0.13.0", "0.19.0"])
def test_a_raw_update_is_a_direct_write(tmp_path: Path, version: str) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (result,) = hermes.drive(version, home, {"op": "create", "name": "raw"})
    task = result["ok"]
    assert hermes.drive(version, home, {"op": "set", "task": "raw", "status": "running"}) == [
        {"ok": 1}
    ]
    db = home / "kanban.db"
    # The driver's connect() ran before the UPDATE: no run yet, no claim, no event of it.
    assert rows(db, "SELECT count(*) FROM task_runs WHERE task_id = ?", task) == [(0,)]
    before = _findings(db)[task]
    assert (before["codes"], before["cause"]) == (["KD001", "KD002"], "direct-write")
    assert "set to running directly" in before["evidence"]["cause"]["detail"]

    hermes.drive(version, home)  # any process's connect(): the back-fill gives it a run
    assert rows(db, "SELECT count(*) FROM task_runs WHERE task_id = ?", task) == [(1,)]
    after = _findings(db)[task]
    assert after["cause"] == "run-without-claim"
    assert "back-fills" in after["evidence"]["cause"]["detail"]
