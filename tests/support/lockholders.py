"""Other processes holding a board's write lock, as a dispatcher does while a repair runs."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

# A second process that waits for a trigger, then holds the write lock twice
# (BEGIN IMMEDIATE ... COMMIT), releasing it in between, as a dispatcher does.
MIDWAY = r"""
import glob, sqlite3, sys, time
path, trigger = sys.argv[1], sys.argv[2]
watch = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
deadline = time.monotonic() + 60
while True:
    if trigger == "writes":
        sql = "SELECT count(*) FROM task_events WHERE kind = 'reconciled'"
        if watch.execute(sql).fetchone()[0] >= 20:
            break
    elif glob.glob(path + ".*.bak"):
        break
    if time.monotonic() > deadline:
        sys.exit("trigger never came")
    time.sleep(0.0005)
# No busy handler: SQLite's sleeps between tries would keep missing the moment
# between two repairs' transactions; a tight loop takes the lock in that gap.
holder = sqlite3.connect(path, isolation_level=None, timeout=0)
for _ in range(2):
    while True:
        try:
            holder.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                sys.exit("never got the lock")
    print("held", flush=True)
    time.sleep(0.5)
    holder.execute("COMMIT")
    time.sleep(0.05)
"""


def midway(path: Path, trigger: str) -> subprocess.Popen[str]:
    """The MIDWAY process, watching `path` for its trigger ("writes" or "backup")."""
    holder = subprocess.Popen(
        [sys.executable, "-c", MIDWAY, str(path), trigger],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.2)  # the holder is watching before the repair starts
    return holder


def hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    """A process that holds the write lock from now for `seconds`."""
    script = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); print('held', flush=True)\n"
        "time.sleep(float(sys.argv[2])); c.execute('COMMIT')\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder
