"""Nothing from a board reaches a terminal raw: ids, run ids and trigger names are escaped.

A task id is whatever a writer stored. Printed raw, an escape sequence clears
the screen or retitles the window, and a newline forges a line of the report,
such as a clean summary.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from support import boards
from support.cli import run_cli

FORGED = "kanban.db: 0 running, 0 open runs, 0 findings (0 repairable)"
HOSTILE = f"t\x1b[2J\x1b]0;owned\x07\x9b31m\r\n{FORGED}\u2028x\x7f"
# Anything that moves the cursor, starts an escape sequence or ends a line, but "\n".
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _clean(text: str) -> None:
    assert not CONTROL.search(text), repr(text)
    assert FORGED not in text.splitlines()


def _board(tmp_path: Path) -> Path:
    now = int(time.time())
    path = tmp_path / "kanban.db"
    conn = boards.create(path)
    boards.never_spawned(conn, HOSTILE, now)
    boards.dangling_run(conn, f"d{HOSTILE}", now)
    conn.execute(
        f'CREATE TRIGGER "kanban_audit_guard_{HOSTILE}" BEFORE DELETE ON tasks BEGIN SELECT 1; END'
    )
    conn.execute(f'CREATE TRIGGER "{HOSTILE}" AFTER DELETE ON task_runs BEGIN SELECT 1; END')
    conn.close()
    return path


def test_audit_repair_and_guard_escape_the_boards_values(tmp_path: Path) -> None:
    path = _board(tmp_path)
    escaped = "t\\x1b[2J\\x1b]0;owned\\x07\\u009b31m\\r\\n" + FORGED + "\\u2028x\\x7f"
    runs = [
        run_cli("audit", path),
        run_cli("repair", path),
        run_cli("repair", path, "--apply", "--yes"),
        run_cli("guard", "status", path),
        run_cli("guard", "remove", path),
    ]
    for proc in runs:
        _clean(proc.stdout)
        _clean(proc.stderr)
    audit, _, applied, status, removed = runs
    assert audit.returncode == 1
    assert escaped in audit.stdout
    assert f"repaired {escaped}: demote to ready" in applied.stdout
    assert applied.stdout.splitlines()[-1] == "repaired 2, skipped 0"
    assert status.returncode == 1 and escaped in status.stdout
    assert removed.returncode == 0 and escaped in removed.stdout
