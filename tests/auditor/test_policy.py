"""Choosing findings: --select/--ignore, repair --task, and acknowledged tasks in the config."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from support import boards
from support.cli import run_cli, run_json

import kanban_audit

# 2030-01-01T00:00:00Z, after every acknowledgement below has expired.
LATER = 1893456000


def _codes(doc: dict[str, Any]) -> dict[str, list[str]]:
    return {f["task_id"]: f["codes"] for f in doc["findings"]}


def test_select_and_ignore_choose_findings_not_what_they_hold(full_board: dict[str, Any]) -> None:
    path, now = full_board["path"], full_board["now"]
    _, whole = run_json("audit", path, "--now", now)
    code, doc = run_json("audit", path, "--now", now, "--select", "KD005")
    assert (code, list(_codes(doc))) == (1, ["dangling"])
    code, doc = run_json("audit", path, "--now", now, "--ignore", "kd006,KD005")
    kept = _codes(doc)
    assert "dangling" not in kept and "remote" not in kept
    # KD003 keeps remote-expired: all its codes stay, and it is still held back.
    assert kept["remote-expired"] == ["KD003", "KD006"]
    remote = next(f for f in doc["findings"] if f["task_id"] == "remote-expired")
    assert remote["repairable"] is False
    assert {t: c for t, c in _codes(whole).items() if t in kept} == kept
    code, doc = run_json("audit", path, "--now", now, "--select", "KD00", "--ignore", "ALL")
    assert (code, doc["findings"]) == (0, [])


@pytest.mark.parametrize("command", ["audit", "repair"])
def test_an_unknown_code_is_exit_2_with_a_hint(full_board: dict[str, Any], command: str) -> None:
    before = boards.board_hash(full_board["path"])
    proc = run_cli(command, full_board["path"], "--select", "KD04")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert (
        proc.stderr == "kanban-audit: error: --select: unknown code 'KD04' (did you mean KD004?)\n"
    )
    assert run_cli(command, full_board["path"], "--ignore", "KA001").returncode == 2
    assert boards.board_hash(full_board["path"]) == before


def test_repair_task_repairs_only_the_tasks_named(full_board: dict[str, Any]) -> None:
    path, now = full_board["path"], full_board["now"]
    before = boards.row_hashes(path, "tasks", "id")
    args = ("--now", now, "--task", "direct", "--task", "dead", "--task", "no-such-task")
    code, doc = run_json("repair", path, *args, "--apply", "--yes")
    assert code == 0
    assert sorted(r["task_id"] for r in doc["results"]) == ["dead", "direct"]
    after = boards.row_hashes(path, "tasks", "id")
    assert {k for k in before if before[k] != after[k]} == {"dead", "direct"}
    _, rest = run_json("audit", path, "--now", now)
    assert {"dead", "direct"}.isdisjoint(_codes(rest)) and len(rest["findings"]) == 10


def _config(folder: Path, until: str = "2029-12-31", extra: str = "") -> Path:
    path = folder / "pyproject.toml"
    path.write_text(
        f"""[tool.kanban-audit.audit]
grace = 0.5
{extra}
[[tool.kanban-audit.audit.acknowledge]]
task = "remote-expired"
reason = "host being rebuilt (OPS-12)"
until = {until}

[[tool.kanban-audit.audit.acknowledge]]
task = "direct"
reason = "left for the dashboard team to inspect"
until = "{until}"
codes = ["KD001", "KD002"]

[[tool.kanban-audit.audit.acknowledge]]
task = "backfilled"
reason = "a run made by hand while debugging"
until = {until}
"""
    )
    return path


def test_acknowledged_findings_are_known_until_they_expire(full_board: dict[str, Any]) -> None:
    path, now, folder = full_board["path"], full_board["now"], full_board["path"].parent
    _config(folder, extra='ignore = ["KD005", "KD004", "KD001", "KD003"]')
    proc = run_cli("audit", path, "--now", now, cwd=folder)
    assert proc.returncode == 0, proc.stdout  # what is left is known
    assert "known remote-expired (KD003,KD006) until 2029-12-31: host being rebuilt" in proc.stdout
    assert proc.stdout.rstrip().endswith("0 findings (0 repairable), 3 known")
    code, doc = run_json("audit", path, "--now", now, cwd=folder)
    assert (code, doc["findings"], doc["summary"]["known"]) == (0, [], 3)
    known = {k["task_id"]: k["acknowledged"] for k in doc["known"]}
    assert known["direct"] == {
        "reason": "left for the dashboard team to inspect",
        "until": "2029-12-31",
    }
    # A known finding is never repaired, even a repairable one.
    before = boards.board_hash(path)
    code, doc = run_json("repair", path, "--now", now, "--apply", "--yes", cwd=folder)
    assert (code, doc["results"]) == (0, [])
    assert boards.board_hash(path) == before
    # Expired: counted again, with a note.
    code, doc = run_json("audit", path, "--now", LATER, cwd=folder)
    assert code == 1 and doc["known"] == []
    direct = next(f for f in doc["findings"] if f["task_id"] == "direct")
    assert direct["why"][-1] == "acknowledgement expired 2029-12-31"


def test_the_config_sets_the_grace_and_the_option_wins(full_board: dict[str, Any]) -> None:
    """`fresh` is a claim whose 900 s expired a second ago: flagged (KD003) after a grace
    of 0.5 s, not of 120 s."""
    path, now, folder = full_board["path"], full_board["now"], full_board["path"].parent
    _config(folder)
    expired = now - 1 + 900 + 1
    _, doc = run_json("audit", path, "--now", expired, cwd=folder)
    assert _codes(doc).get("fresh") == ["KD003"] and doc["summary"]["grace_seconds"] == 0.5
    _, doc = run_json("audit", path, "--now", expired, "--grace", "120", cwd=folder)
    assert "fresh" not in _codes(doc)
    empty = folder / "empty.toml"
    empty.write_text("")
    _, doc = run_json("audit", path, "--now", now + 1, "--config", empty, cwd=folder)
    assert doc["summary"]["grace_seconds"] == 120
    proc = run_cli("audit", path, "--config", folder / "missing.toml", cwd=folder)
    assert proc.returncode == 2 and "config file not found" in proc.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tool.kanban-audit.audit]\nbogus = 1\n", "unknown option 'bogus'"),
        ("[tool.kanban-audit.audit]\ngrace = -1\n", "grace: expected a number"),
        ("[tool.kanban-audit.audit]\nignore = ['KD9']\n", "unknown code 'KD9'"),
        ("[[tool.kanban-audit.audit.acknowledge]]\ntask = 't'\nuntil = 2029-01-01\n", "say why"),
        (
            "[[tool.kanban-audit.audit.acknowledge]]\ntask = 't'\nreason = 'r'\nuntil = 'soon'\n",
            "until: expected a date",
        ),
        ("[tool.kanban-audit.audit\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_one_line_and_exit_2(
    full_board: dict[str, Any], text: str, message: str
) -> None:
    folder = full_board["path"].parent
    (folder / "pyproject.toml").write_text(text)
    before = boards.board_hash(full_board["path"])
    proc = run_cli("repair", full_board["path"], "--apply", "--yes", cwd=folder)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert boards.board_hash(full_board["path"]) == before


def test_the_library_takes_the_same_policy(full_board: dict[str, Any]) -> None:
    folder = full_board["path"].parent
    _config(folder)
    policy = kanban_audit.load_policy(cwd=folder)
    report = kanban_audit.audit(full_board["path"], now=full_board["now"], policy=policy)
    known = sorted(str(k.finding.task_id) for k in report.known)
    assert known == ["backfilled", "direct", "remote-expired"]
    only = dataclasses.replace(policy, tasks=("dead",))
    done = kanban_audit.repair(
        full_board["path"], now=full_board["now"], policy=only, apply=True, backup=False
    )
    assert [o.task_id for o in done.outcomes] == ["dead"]
    assert json.loads(json.dumps([o.result for o in done.outcomes])) == ["repaired"]


def test_the_library_undoes_a_repair_and_lists_it(full_board: dict[str, Any]) -> None:
    path, now = full_board["path"], full_board["now"]
    before = boards.row_hashes(path, "tasks", "id")["dead"]
    kanban_audit.repair(path, now=now, apply=True, backup=False)
    done = kanban_audit.undo("dead", path, now=now + 60)
    assert (done.result, boards.row_hashes(path, "tasks", "id")["dead"]) == ("undone", before)
    entries = kanban_audit.history(path, task="dead")
    assert [(e.what, e.undone_by) for e in entries] == [("repair", done.undo_event), ("undo", None)]
