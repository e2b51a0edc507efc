"""Stray workers (KD007) made by the real dispatchers of every release, and ended by repair.

Each release's real `dispatch_once` spawns its workers with its default spawn
(the agent binary replaced by the stand-in of support/agents.py, which notes
each SIGTERM it gets). Then the real `block_task`, `archive_task` and
`unblock_task` leave three workers running that the board no longer records.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from support import agents, hermes
from support.cli import run_cli, run_json
from support.db import row_hashes, rows


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the stand-in agent, named `hermes`."""
    return agents.install(tmp_path_factory.mktemp("agent"))


@pytest.fixture
def homes(tmp_path: Path) -> Iterator[list[Path]]:
    """Board homes for one test; every process working for one of them is killed after it."""
    made: list[Path] = []
    yield made
    agents.end_workers(made)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _signalled(home: Path) -> dict[int, float]:
    """Run id -> when its worker got SIGTERM, as the stand-in noted it."""
    path = home / "signals"
    if not path.exists():
        return {}
    return {
        int(run): float(at)
        for run, at in (line.split() for line in path.read_text().split("\n") if line)
    }


def _new_board(home: Path, version: str, agent: Path, steps: list[dict[str, Any]]) -> Any:
    home.mkdir()
    return hermes.start(version, home, steps, env=agents.environment(agent, home))


@pytest.mark.parametrize("version", list(hermes.RELEASES))
def test_repair_ends_exactly_the_stray_workers(
    tmp_path: Path, version: str, agent: Path, homes: list[Path]
) -> None:
    home, other = tmp_path / "board", tmp_path / "other"
    homes += [home, other]
    ours = _new_board(home, version, agent, agents.stray_steps("healthy"))
    # Another board's worker with the same environment names: a stray of that board.
    theirs = _new_board(
        other,
        version,
        agent,
        [
            {"op": "create", "name": "blocked", "assignee": "default"},
            {"op": "dispatch_once"},
            {"op": "block", "task": "blocked"},
        ],
    )
    results = [r.get("ok") for r in hermes.finish(ours)]
    assert all(r not in (None, False) for r in results), results
    first, again = results[4], results[-1]
    other_worker = [r.get("ok") for r in hermes.finish(theirs)][1]["blocked"]
    strays = {first[name] for name in agents.STRAYS}
    healthy = {first["healthy"], again["unblocked"]}
    assert set(first) == {*agents.STRAYS, "healthy"} and set(again) == {"unblocked"}
    assert all(_alive(pid) for pid in strays | healthy | {other_worker})

    db = home / "kanban.db"
    tasks = row_hashes(db, "tasks", "id")
    code, doc = run_json("audit", db, "--grace", "0")  # the runs ended a moment ago
    assert code == 1
    found = {
        w["pid"]: w
        for f in doc["findings"]
        if "KD007" in f["codes"]
        for w in f["evidence"]["workers"]
    }
    assert set(found) == strays
    assert {w["task_status"] for w in found.values()} == {"blocked", "archived", "running"}
    descendants = {d["pid"] for w in found.values() for d in w["descendants"]}
    assert len(descendants) == 3  # each stand-in's tool
    assert doc["summary"]["processes"]["workers"] == 5

    repair = run_cli("repair", db, "--apply", "--yes", "--no-backup", "--grace", "0")
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert not [pid for pid in strays | descendants if _alive(pid)]
    assert all(_alive(pid) for pid in healthy | {other_worker})
    assert row_hashes(db, "tasks", "id") == tasks
    runs = {w["run"] for w in found.values()}
    assert set(_signalled(home)) == runs
    assert _signalled(other) == {}
    events = rows(db, "SELECT run_id, payload FROM task_events WHERE kind = 'reconciled'")
    assert {run for run, _ in events} == runs
    recorded = {
        p["pid"]: p["signals"]
        for _, payload in events
        for w in json.loads(payload)["workers"]
        for p in w["processes"]
    }
    assert set(recorded) == strays | descendants
    assert all(signals[0] == "SIGTERM" for signals in recorded.values())

    code, doc = run_json("audit", db, "--grace", "0")
    assert code == 0, doc["findings"]
    assert doc["summary"]["by_code"] == {}


def test_repair_racing_the_real_dispatcher_never_ends_a_worker_whose_run_is_open(
    tmp_path: Path, agent: Path, homes: list[Path]
) -> None:
    """Hermes 0.14.0, the last release that can share its board with another writer."""
    home = tmp_path / "board"
    homes.append(home)
    db = home / "kanban.db"
    dispatcher = _new_board(home, "0.14.0", agent, [{"op": "spawn_and_complete", "seconds": 5}])
    repairs = 0
    while dispatcher.poll() is None:
        if db.exists():
            proc = run_cli("repair", db, "--apply", "--yes", "--no-backup", "--grace", "0")
            assert proc.returncode in (0, 1), proc.stderr
            repairs += 1
    [result] = hermes.finish(dispatcher)
    assert "ok" in result, result
    final = run_cli("repair", db, "--apply", "--yes", "--no-backup", "--grace", "0")
    assert final.returncode in (0, 1), final.stderr
    assert repairs >= 2

    ended = dict(rows(db, "SELECT id, ended_at FROM task_runs"))
    signalled = _signalled(home)
    # Every signalled worker's run had ended before its signal (Hermes writes whole seconds).
    assert all(ended[run] is not None and ended[run] <= at for run, at in signalled.items())
    ids = json.loads((home / "names.json").read_text())
    completed = [ids[name] for name in result["ok"]["completed"]]
    runs = rows(
        db,
        "SELECT id FROM task_runs WHERE task_id IN (SELECT value FROM json_each(?))",
        json.dumps(completed),
    )
    assert len(completed) >= 2 and {run for (run,) in runs} == set(signalled)
    pids = dict(rows(db, "SELECT id, worker_pid FROM tasks WHERE status = 'running'"))
    running = [ids[name] for name in result["ok"]["running"]]
    assert len(running) >= 2 and all(_alive(pids[task]) for task in running)
    assert run_json("audit", db, "--grace", "0")[1]["summary"]["by_code"].get("KD007") is None


def test_a_worker_of_a_running_task_is_never_touched_with_force(
    tmp_path: Path, agent: Path, homes: list[Path]
) -> None:
    home = tmp_path / "board"
    homes.append(home)
    proc = _new_board(
        home,
        "0.19.0",
        agent,
        [{"op": "create", "name": "t", "assignee": "default"}, {"op": "dispatch_once"}],
    )
    [_, spawned] = hermes.finish(proc)
    pid = spawned["ok"]["t"]
    repair = run_cli("repair", home / "kanban.db", "--apply", "--yes", "--force", "--no-backup")
    assert repair.returncode == 0, repair.stdout
    assert _alive(pid) and _signalled(home) == {}
