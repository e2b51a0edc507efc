"""A PID is evidence only on the host that wrote it: the claim's host must be this host, exactly."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from support import boards
from support.cli import KANBAN_AUDIT, run_json

from kanban_audit.auditor.liveness import same_host

SHORT = boards.HOST.split(".", 1)[0]


@pytest.mark.parametrize(
    ("claim", "local", "same"),
    [
        ("worker-2.example", "worker-2.example", True),
        ("worker-2.example", "worker-2.other", False),
        ("worker-2", "worker-2.example", False),
        ("worker-2.example", "worker-2", False),
        ("Worker-2", "worker-2", False),
        ("", "", False),
    ],
)
def test_same_host_is_an_exact_match(claim: str, local: str, same: bool) -> None:
    assert same_host(claim, local) is same


def _board(path: Path, now: int, pid: int, hosts: dict[str, str]) -> None:
    """One task a host, each claimed there by a worker whose PID is dead on this machine."""
    conn = boards.create(path)
    for task_id, host in hosts.items():
        boards.claimed(conn, f"{task_id}-valid", now, host=host, pid=pid)
        boards.claimed(conn, f"{task_id}-expired", now, host=host, pid=pid, age=7200, ttl=900)
    conn.close()


def _codes(doc: dict) -> dict[str, tuple[list[str], bool]]:
    return {f["task_id"]: (f["codes"], f["repairable"]) for f in doc["findings"]}


def test_sharing_the_short_name_is_another_host(tmp_path: Path, dead_pid: int) -> None:
    """`vm.other` is not `vm`: its dead-looking PID proves nothing and it is never repaired."""
    now = int(time.time())
    path = tmp_path / "kanban.db"
    hosts = {"here": boards.HOST, "dotted": f"{SHORT}.other"}
    if "." in boards.HOST:
        hosts["short"] = SHORT
    _board(path, now, dead_pid, hosts)
    code, doc = run_json("audit", path, "--now", now)
    assert code == 1
    found = _codes(doc)
    assert found.pop("here-valid") == (["KD004"], True)
    assert found.pop("here-expired") == (["KD003", "KD004"], True)
    expected = {f"{task}-expired": (["KD003", "KD006"], False) for task in hosts if task != "here"}
    assert found == expected  # valid remote claims are healthy: nothing to report

    before = boards.row_hashes(path, "tasks", "id")
    code, doc = run_json("repair", path, "--apply", "--yes", "--now", now)
    assert code == 0
    assert {r["task_id"] for r in doc["results"]} == {"here-valid", "here-expired"}
    after = boards.row_hashes(path, "tasks", "id")
    assert {t for t in before if before[t] != after[t]} == {"here-valid", "here-expired"}


def _in_uts_namespace() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    done = subprocess.run([unshare, "--uts", "true"], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(not _in_uts_namespace(), reason="needs `unshare --uts` (root)")
def test_a_fully_qualified_host_is_not_its_short_name(tmp_path: Path, dead_pid: int) -> None:
    """On `worker-2.example`, claims by `worker-2` and `worker-2.other` are other hosts."""
    now = int(time.time())
    path = tmp_path / "kanban.db"
    hosts = {"exact": "worker-2.example", "short": "worker-2", "other": "worker-2.other"}
    _board(path, now, dead_pid, hosts)
    script = 'hostname "$1" && shift && exec "$@"'
    done = subprocess.run(
        ["unshare", "--uts", "sh", "-c", script, "sh", "worker-2.example"]
        + [str(KANBAN_AUDIT), "audit", str(path), "--now", str(now), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (1, "")
    found = _codes(json.loads(done.stdout))
    assert found == {
        "exact-valid": (["KD004"], True),
        "exact-expired": (["KD003", "KD004"], True),
        "short-expired": (["KD003", "KD006"], False),
        "other-expired": (["KD003", "KD006"], False),
    }
