"""Drive one real Hermes release against a board: named steps in, JSON out.

Run as `python hermes_driver.py RELEASE_DIR HOME` with a JSON list of steps on
stdin. Every release has the same module names, so each runs in a process of
its own: this script puts the release's unpacked folder first on `sys.path`,
points Hermes at `HOME/kanban.db` (HERMES_KANBAN_DB, HERMES_HOME,
HERMES_KANBAN_HOME), opens the board with Hermes' own `connect()` (schema,
migrations and the back-fill of running tasks without a run), and performs
each step with the release's real functions. Tasks are named by the test;
`HOME/names.json` maps names to the ids Hermes gave them across runs.

Each step is `{"op": ..., ...}`; its result is `{"ok": value}`, `{"error":
"Type: message"}` when the real code raised, `{"http": code, "detail": ...}`
when a dashboard handler refused, or `{"absent": name}` when the release has
no such function. The output is `{"results": [...]}`, one result per step.

For a board a page shows, `DRIVER_CLOCK` (epoch seconds) sets where Hermes'
clock starts (it runs on from there) and `DRIVER_SEED` seeds the random ids
Hermes gives its tasks: the same steps then write the same board.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import random
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _pin(clock: str | None, seed: str | None) -> None:
    """Hermes' clock from `clock` on and its ids from `seed` (see the module's docstring)."""
    if clock:
        real = time.time
        offset = float(clock) - real()
        time.time = lambda: real() + offset
    if seed:
        ids = random.Random(int(seed))
        secrets.token_hex = lambda nbytes=32: ids.randbytes(nbytes).hex()


def _setup(release: Path, home: Path) -> None:
    _pin(os.environ.get("DRIVER_CLOCK"), os.environ.get("DRIVER_SEED"))
    os.environ["HERMES_HOME"] = str(home)
    os.environ["HERMES_KANBAN_HOME"] = str(home)
    os.environ["HERMES_KANBAN_DB"] = str(home / "kanban.db")
    sys.path.insert(0, str(release))


def _rounds(seconds: float) -> Iterator[int]:
    """0, 1, 2... until `seconds` have passed."""
    deadline = time.monotonic() + seconds
    for number in itertools.count():
        if time.monotonic() >= deadline:
            return
        yield number


class Driver:
    """The release's kanban_db (and, on first use, its dashboard plugin) on one board."""

    def __init__(self, home: Path) -> None:
        from hermes_cli import kanban_db

        self.kb = kanban_db
        self.home = home
        self.names_file = home / "names.json"
        self.names: dict[str, str] = (
            json.loads(self.names_file.read_text()) if self.names_file.exists() else {}
        )
        self.conn = kanban_db.connect()
        self._plugin: Any = None

    @property
    def plugin(self) -> Any:
        if self._plugin is None:
            from plugins.kanban.dashboard import plugin_api

            self._plugin = plugin_api
        return self._plugin

    def id(self, name: str) -> str:
        return self.names[name]

    def close(self) -> None:
        """Close the board; add this run's names to the file (drivers may run side by side)."""
        self.conn.close()
        with open(self.names_file, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            names = json.loads(handle.read() or "{}")
            names.update(self.names)
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(names))

    # Steps -------------------------------------------------------------------

    def op_create(self, name: str, assignee: str | None = None) -> str:
        self.names[name] = self.kb.create_task(self.conn, title=name, assignee=assignee)
        return self.names[name]

    def op_claim(self, task: str, claimer: str | None = None, ttl: int | None = None) -> bool:
        kwargs: dict[str, Any] = {"claimer": claimer}
        if ttl is not None:
            kwargs["ttl_seconds"] = ttl
        return self.kb.claim_task(self.conn, self.id(task), **kwargs) is not None

    def op_claim_review(self, task: str) -> bool:
        return self.kb.claim_review_task(self.conn, self.id(task)) is not None

    def op_set_pid(self, task: str, pid: int) -> None:
        self.kb._set_worker_pid(self.conn, self.id(task), pid)

    def op_heartbeat_claim(self, task: str, claimer: str | None = None) -> bool:
        return self.kb.heartbeat_claim(self.conn, self.id(task), claimer=claimer)

    def op_heartbeat_worker(self, task: str) -> bool:
        return self.kb.heartbeat_worker(self.conn, self.id(task))

    def op_complete(self, task: str) -> bool:
        return self.kb.complete_task(self.conn, self.id(task), result="done by the test")

    def op_block(self, task: str) -> bool:
        return self.kb.block_task(self.conn, self.id(task), reason="blocked by the test")

    def op_unblock(self, task: str) -> bool:
        return self.kb.unblock_task(self.conn, self.id(task))

    def op_archive(self, task: str) -> bool:
        return self.kb.archive_task(self.conn, self.id(task))

    def op_dispatch_once(self) -> dict[str, int]:
        """One tick of the real dispatcher with its default spawn: the worker PID of each
        task it spawned (the agent binary is whatever HERMES_BIN or PATH names)."""
        spawned = [entry[0] for entry in self.kb.dispatch_once(self.conn).spawned]
        by_id = {v: k for k, v in self.names.items()}
        sql = "SELECT worker_pid FROM tasks WHERE id = ?"
        return {by_id.get(i, i): self.conn.execute(sql, (i,)).fetchone()[0] for i in spawned}

    def op_spawn_and_complete(self, seconds: float) -> dict[str, list[str]]:
        """A dispatcher at work: each round a task is created and dispatched (real spawn);
        every other one is completed at once, the rest are left running."""
        completed: list[str] = []
        running: list[str] = []
        for number in _rounds(seconds):
            name = f"spawned{number}"
            self.op_create(name, assignee="default")
            if name not in self.op_dispatch_once():
                raise RuntimeError(f"the dispatcher did not spawn {name}")
            if number % 2:
                running.append(name)
                continue
            time.sleep(0.05)
            if not self.op_complete(name):
                raise RuntimeError(f"{name} could not be completed")
            completed.append(name)
        return {"completed": completed, "running": running}

    def op_release_stale(self) -> int:
        return self.kb.release_stale_claims(self.conn)

    def op_detect_crashed(self) -> list[str]:
        by_id = {v: k for k, v in self.names.items()}
        return sorted(by_id.get(i, i) for i in self.kb.detect_crashed_workers(self.conn))

    def op_init(self) -> None:
        """Hermes' `init_db()`: the schema, migrations and back-fill again, unconditionally."""
        self.kb.init_db()

    def op_set(self, task: str, status: str) -> int:
        """A plain `UPDATE tasks SET status = ?`, as any program could run."""
        with self.kb.write_txn(self.conn):
            sql = "UPDATE tasks SET status = ? WHERE id = ?"
            return self.conn.execute(sql, (status, self.id(task))).rowcount

    def op_direct(self, task: str, status: str) -> bool:
        """The dashboard's drag-and-drop writer, the one behind the original bug."""
        return self.plugin._set_status_direct(self.conn, self.id(task), status)

    def op_bulk(self, tasks: list[str], status: str) -> list[dict[str, Any]]:
        """The dashboard's bulk-update endpoint, called as FastAPI would call it."""
        body = self.plugin.BulkTaskBody(ids=[self.id(t) for t in tasks], status=status)
        return self.plugin.bulk_update(body, board=None)["results"]

    def op_patch(self, task: str, status: str) -> Any:
        """The dashboard's PATCH /tasks/{id} endpoint, called as FastAPI would call it."""
        body = self.plugin.UpdateTaskBody(status=status)
        return self.plugin.update_task(self.id(task), body, board=None)["task"]["status"]

    def op_dispatch(self, seconds: float) -> dict[str, Any]:
        """A dispatcher loop: create, claim, record this process as the worker, heartbeat,
        complete; report every claim the real functions said was lost."""
        claimed: list[str] = []
        lost: list[str] = []
        for number in _rounds(seconds):
            name = f"dispatched{number}"
            self.op_create(name)
            if not self.op_claim(name):
                lost.append(f"{name}: claim refused")
                continue
            claimed.append(name)
            self.op_set_pid(name, os.getpid())
            for _ in range(3):
                time.sleep(0.01)
                if not self.op_heartbeat_claim(name) or not self.op_heartbeat_worker(name):
                    lost.append(f"{name}: heartbeat refused")
            if not self.op_complete(name):
                lost.append(f"{name}: completion refused")
        return {"claimed": claimed, "lost": lost}

    def op_orphans(self, seconds: float) -> list[str]:
        """The original bug on repeat: a ready task dragged to running by the dashboard."""
        made: list[str] = []
        for number in _rounds(seconds):
            name = f"dragged{number}"
            self.op_create(name)
            if not self.op_direct(name, "running"):
                raise RuntimeError(f"the dashboard refused to move {name} to running")
            made.append(name)
            time.sleep(0.02)
        return made

    def op_signal(self, path: str) -> None:
        """Tell the test this step was reached (it waits for the file)."""
        Path(path).touch()

    def op_wait(self, path: str, timeout: float = 60) -> None:
        """Wait, with the board open, until the test creates the file."""
        deadline = time.monotonic() + timeout
        while not Path(path).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"nobody created {path}")
            time.sleep(0.01)

    def run(self, step: dict[str, Any]) -> dict[str, Any]:
        args = dict(step)
        name = args.pop("op")
        method = getattr(self, f"op_{name}")
        required = {"claim_review": "claim_review_task"}.get(name)
        if required and not hasattr(self.kb, required):
            return {"absent": required}
        try:
            return {"ok": method(**args)}
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            if status is not None:
                return {"http": status, "detail": getattr(exc, "detail", "")}
            return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    release, home = Path(sys.argv[1]), Path(sys.argv[2])
    steps = json.load(sys.stdin)
    _setup(release, home)
    driver = Driver(home)
    try:
        results = [driver.run(step) for step in steps]
    finally:
        driver.close()
    print(json.dumps({"results": results}))


if __name__ == "__main__":
    main()
