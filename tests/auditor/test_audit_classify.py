"""Every task state the codes describe, plus the healthy ones, through the installed command."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psutil
from support import boards
from support.cli import run_cli, run_json

EXPECTED = {
    # task: (codes, repairable, cause)
    "lapsed-alive": (["KD003"], False, "claim-path"),
    "direct": (["KD001", "KD002"], True, "direct-write"),
    "dead": (["KD004"], True, "claim-path"),
    "zombie": (["KD004"], True, "claim-path"),
    "reused": (["KD004"], True, "claim-path"),
    "expired-dead": (["KD003", "KD004"], True, "claim-path"),
    "never-spawned": (["KD003"], True, "claim-path"),
    "ended-run": (["KD001", "KD004"], True, "claim-path"),
    "foreign-run": (["KD001", "KD004"], True, "claim-path"),
    "backfilled": (["KD002"], True, "run-without-claim"),
    "dangling": (["KD005"], True, "unknown"),
    "remote-expired": (["KD003", "KD006"], False, "claim-path"),
}


def test_each_state_is_classified(full_board: dict[str, Any]) -> None:
    code, doc = run_json("audit", full_board["path"], "--now", full_board["now"])
    assert code == 1
    found = {f["task_id"]: (f["codes"], f["repairable"], f["cause"]) for f in doc["findings"]}
    assert found == EXPECTED
    assert set(doc) >= {"version", "db", "checked_at", "findings", "summary"}
    assert doc["version"] == 1  # the format's version, as in the lint JSON
    assert doc["summary"]["running"] == 14
    assert doc["summary"]["repairable"] == 10
    assert doc["summary"]["skipped_checks"] == []


def test_findings_carry_evidence(full_board: dict[str, Any]) -> None:
    _, doc = run_json("audit", full_board["path"], "--now", full_board["now"])
    by_id = {f["task_id"]: f for f in doc["findings"]}
    for finding in doc["findings"]:
        assert set(finding) >= {"task_id", "codes", "repairable", "action", "evidence"}
        assert set(finding["evidence"]["checks"]) == set(finding["codes"])
    reused = by_id["reused"]["evidence"]
    assert reused["liveness"]["state"] == "dead"
    assert "reused" in reused["checks"]["KD004"]
    assert by_id["zombie"]["evidence"]["liveness"]["detail"].endswith("is a zombie")
    direct = by_id["direct"]["evidence"]
    assert direct["cause"]["kind"] == "status"
    assert "bypassing the claim path" in direct["cause"]["detail"]
    assert by_id["dead"]["evidence"]["cause"]["kind"] == "claimed"
    assert by_id["lapsed-alive"]["action"].startswith("none: worker alive")
    assert by_id["remote-expired"]["action"].startswith("none: claimed on host")
    assert (
        by_id["dangling"]["action"]
        == "close run #" + str(by_id["dangling"]["evidence"]["open_runs"][0]) + " as reclaimed"
    )
    assert by_id["direct"]["action"] == "demote to ready"


def test_text_table_names_task_codes_cause_and_action(full_board: dict[str, Any]) -> None:
    proc = run_cli("audit", full_board["path"], "--now", full_board["now"])
    assert proc.returncode == 1
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    header = ["TASK", "TITLE", "ASSIGNEE", "AGE", "CODES", "CAUSE", "WHY", "ACTION"]
    assert lines[0].split() == header
    direct = next(line for line in lines if line.startswith("direct "))
    assert "KD001,KD002" in direct and "direct-write" in direct and "demote to ready" in direct
    assert lines[-1].endswith("14 running, 12 open runs, 12 findings (10 repairable)")


def test_a_claim_without_a_pid_is_left_to_its_expiry(full_board: dict[str, Any]) -> None:
    """No PID is not a dead PID: the claim is left alone until it expires (plus grace)."""
    expires = full_board["now"] - 1 + 900
    for now in (full_board["now"] + 300, expires + 120):
        _, doc = run_json("audit", full_board["path"], "--now", now)
        assert "fresh" not in {f["task_id"] for f in doc["findings"]}
    _, doc = run_json("audit", full_board["path"], "--now", expires + 121)
    (fresh,) = [f for f in doc["findings"] if f["task_id"] == "fresh"]
    assert (fresh["codes"], fresh["repairable"]) == (["KD003"], True)


def test_clean_board_exits_zero(tmp_path: Path, worker: psutil.Process) -> None:
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.idle(conn, "a", now)
    boards.finished(conn, "b", now)
    boards.live_worker(conn, "c", now, worker.pid, worker.create_time())
    boards.remote_worker(conn, "d", now)
    conn.close()
    proc = run_cli("audit", path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.strip().endswith("2 running, 2 open runs, 0 findings (0 repairable)")


def test_old_board_checks_what_it_can(tmp_path: Path) -> None:
    """No run table, no claim expiry, no current run, no fingerprint: the rest still works."""
    now = int(time.time())
    path = tmp_path / "old.db"
    conn = boards.create(
        path,
        schema="CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT, status TEXT NOT NULL,"
        " created_at INTEGER NOT NULL, started_at INTEGER, claim_lock TEXT, worker_pid INTEGER);",
    )
    boards.add_task(conn, "orphan", "running", now)
    boards.add_task(conn, "claimed", "running", now, started_at=now - 5, claim_lock="h:1")
    boards.add_task(conn, "idle", "ready", now)
    conn.close()
    before = boards.board_hash(path, ("tasks",))
    code, doc = run_json("audit", path, "--now", now)
    assert code == 1
    assert [(f["task_id"], f["codes"]) for f in doc["findings"]] == [("orphan", ["KD002"])]
    skipped = {s["check"] for s in doc["summary"]["skipped_checks"]}
    assert skipped == {"KD001", "KD003", "KD005", "cause"}
    assert doc["findings"][0]["cause"] == "unknown"

    proc = run_cli("repair", path, "--apply", "--yes", "--now", now)
    assert proc.returncode == 0, proc.stderr
    assert boards.board_hash(path, ("tasks",)) != before
    assert boards.rows(path, "SELECT status, claim_lock FROM tasks WHERE id = 'orphan'") == [
        ("ready", None)
    ]
    assert run_cli("audit", path, "--now", now).returncode == 0


def test_another_pack_names_other_tables(tmp_path: Path) -> None:
    """Every table and column name comes from the pack: a renamed board audits the same."""
    rename = {"tasks": "cards", "task_runs": "card_runs", "task_events": "card_log"}
    schema = boards.SCHEMA.read_text()
    for old, new in sorted(rename.items(), key=lambda kv: -len(kv[0])):
        schema = schema.replace(f" {old}(", f" {new}(").replace(f" {old} (", f" {new} (")
    schema = schema.replace(
        "status TEXT NOT NULL,\n    priority", "state TEXT NOT NULL,\n    priority"
    )
    schema = schema.replace("ON cards(status,", "ON cards(state,")
    pack = boards.SCHEMA.parents[1] / "kanban_audit" / "packs" / "hermes.toml"
    text = pack.read_text()
    for old, new in rename.items():
        text = text.replace(f'table = "{old}"', f'table = "{new}"')
    text = text.replace(
        '[tasks]\ntable = "cards"\nid = "id"\nstatus = "status"',
        '[tasks]\ntable = "cards"\nid = "id"\nstatus = "state"',
    )
    text = text.replace('"assignee", "status",', '"assignee", "state",')  # the column order
    assert 'status = "state"' in text
    rules = tmp_path / "cards.toml"
    rules.write_text(text)
    now = int(time.time())
    path = tmp_path / "cards.db"
    conn = boards.create(path, schema=schema)
    conn.execute("INSERT INTO cards (id, state, created_at) VALUES ('c1', 'running', ?)", (now,))
    conn.execute("INSERT INTO cards (id, state, created_at) VALUES ('c2', 'ready', ?)", (now,))
    conn.execute(
        "INSERT INTO card_log (task_id, kind, payload, created_at)"
        """ VALUES ('c1', 'status', '{"to": "running"}', ?)""",
        (now,),
    )
    conn.close()
    code, doc = run_json("audit", path, "--rules", rules, "--now", now)
    assert code == 1
    assert [(f["task_id"], f["codes"], f["cause"]) for f in doc["findings"]] == [
        ("c1", ["KD001", "KD002"], "direct-write")
    ]
    assert run_cli("repair", path, "--rules", rules, "--apply", "--yes").returncode == 0
    assert boards.rows(path, "SELECT id, state FROM cards ORDER BY id") == [
        ("c1", "ready"),
        ("c2", "ready"),
    ]
    assert boards.rows(path, "SELECT kind FROM card_log ORDER BY id") == [
        ("status",),
        ("reconciled",),
    ]
