"""A stand-in for the agent binary Hermes' dispatcher spawns, so real dispatches run anywhere.

Each release's real `dispatch_once` spawns its workers with its default spawn;
the agent binary is replaced by this script through `HERMES_BIN` (or a
`hermes` first on `PATH` for releases older than that variable): Hermes builds
the worker's argv and environment itself. The stand-in runs a tool (a child
`sleep`) and writes its run and the time to a file when it gets SIGTERM, so a
test knows exactly which worker was signalled, and when.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import psutil

STAND_IN = """\
#!/bin/sh
# A stand-in agent: notes SIGTERM (run, time), runs a tool in a child process, waits.
trap 'echo "$HERMES_KANBAN_RUN_ID $(date +%s.%N)" >> "$STRAY_SIGNALS"; exit 0' TERM
sleep 600 &
wait
"""


def install(folder: Path) -> Path:
    """`folder` holding the stand-in agent, named `hermes`."""
    binary = folder / "hermes"
    binary.write_text(STAND_IN)
    binary.chmod(0o755)
    return folder


def environment(agent: Path, home: Path) -> dict[str, str]:
    """What a driver needs for its dispatcher to spawn the stand-in; signals noted in home."""
    return {
        "HERMES_BIN": str(agent / "hermes"),
        "PATH": f"{agent}{os.pathsep}{os.environ['PATH']}",
        "STRAY_SIGNALS": str(home / "signals"),
    }


def end_workers(homes: Iterable[Path]) -> None:
    """Kill every process working for a board under one of `homes` (after a test)."""
    prefixes = [str(home) for home in homes]
    for proc in psutil.process_iter():
        try:
            db = proc.environ().get("HERMES_KANBAN_DB", "")
            if any(db.startswith(prefix) for prefix in prefixes):
                proc.kill()
        except psutil.Error:
            continue


# The tasks whose workers a real dispatcher leaves behind in `stray_steps`.
STRAYS = ("blocked", "archived", "unblocked")


def stray_steps(healthy: str) -> list[dict[str, str]]:
    """Driver steps that leave three stray workers: four tasks dispatched, then one blocked,
    one archived, one blocked, unblocked and dispatched again; `healthy` keeps running."""
    return [
        *({"op": "create", "name": n, "assignee": "default"} for n in (*STRAYS, healthy)),
        {"op": "dispatch_once"},
        {"op": "block", "task": "blocked"},
        {"op": "archive", "task": "archived"},
        {"op": "block", "task": "unblocked"},
        {"op": "unblock", "task": "unblocked"},
        {"op": "dispatch_once"},
    ]
