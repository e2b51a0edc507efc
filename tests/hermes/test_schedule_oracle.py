"""The scheduling recipes of docs/audit.md, run as written on boards Hermes wrote.

The systemd unit's `Environment=` and `ExecStart=` lines and the cron line are
read from the page; only their paths are pointed at a temporary folder (the
Hermes home, the textfile folder, the installed command).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hermes_boards import REPAIRED, Board
from support.cli import KANBAN_AUDIT

PAGE = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
HOME, TEXTFILE, COMMAND = (
    "/srv/hermes",
    "/var/lib/node_exporter/textfile",
    "/usr/local/bin/kanban-audit",
)


def _recipes() -> tuple[dict[str, str], str, str]:
    text = PAGE.read_text()
    unit = re.search(r"# /etc/systemd/system/kanban-audit.service\n(.*?)```", text, re.S).group(1)
    env = dict(
        line.removeprefix("Environment=").split("=", 1)
        for line in unit.splitlines()
        if line.startswith("Environment=")
    )
    (exec_start,) = [
        line[len("ExecStart=") :] for line in unit.splitlines() if line.startswith("ExecStart=")
    ]
    cron = re.search(r"# /etc/cron.d/kanban-audit\n(.*?)\n```", text, re.S).group(1)
    return env, exec_start, cron


def _here(text: str, home: Path, textfile: Path) -> str:
    return (
        text.replace(COMMAND, str(KANBAN_AUDIT))
        .replace(HOME, str(home))
        .replace(TEXTFILE, str(textfile))
    )


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A job as a scheduler starts it: no terminal; it must succeed."""
    done = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _metrics(path: Path) -> dict[str, float]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


@pytest.mark.parametrize("version", ["0.19.0"])
def test_the_systemd_unit_and_the_cron_line_run_as_written(board: Board, tmp_path: Path) -> None:
    env_lines, exec_start, cron = _recipes()
    assert env_lines == {"HERMES_HOME": HOME}
    ops = board.home / "kanban" / "boards" / "ops" / "kanban.db"
    ops.parent.mkdir(parents=True)
    shutil.copyfile(board.db, ops)
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    for day in range(1, 8):  # older backups of the default board: five are kept in all
        (board.home / f"kanban.db.202001{day:02d}T000000Z.bak").write_bytes(b"old")
    (board.home / "kanban.db.keep-me.bak").write_bytes(b"not ours")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    env = {**clean, **{k: _here(v, board.home, textfile) for k, v in env_lines.items()}}

    # systemd runs ExecStart without a shell, split as a command line.
    done = _run(shlex.split(_here(exec_start, board.home, textfile)), env)
    for name in REPAIRED:
        assert f"repaired {board.ids[name]}" in done.stdout
    ours = sorted(p.name for p in board.home.glob("kanban.db.*.bak"))
    assert len(ours) == 6 and "kanban.db.keep-me.bak" in ours  # five of ours, and not ours
    assert "kanban.db.20200104T000000Z.bak" in ours and "kanban.db.20200103T000000Z.bak" not in ours
    metrics = _metrics(textfile / "kanban_audit.prom")
    assert metrics["kanban_audit_exit_code"] == 0
    assert metrics[f'kanban_audit_up{{db="{board.db}"}}'] == 1
    assert metrics[f'kanban_audit_repairable{{db="{ops}"}}'] == len(REPAIRED)

    # cron runs the line's command (after the schedule and the user) with /bin/sh.
    fields = cron.split(None, 6)
    assert fields[5] == "hermes"
    again = _run(["/bin/sh", "-c", _here(fields[6], board.home, textfile)], clean)
    assert "repaired 0, skipped 0" in again.stdout or "nothing to repair" in again.stdout
    assert _metrics(textfile / "kanban_audit.prom")[f'kanban_audit_repairable{{db="{ops}"}}'] == 0
