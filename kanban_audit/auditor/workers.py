"""This host's worker processes of a board, found by the environment they carry.

A dispatcher tells each worker its board, task and run in environment
variables (the pack's `[workers]` section names them). A worker that outlives
its run - its task blocked, archived or claimed again - is a stray (KD007):
the board no longer records it, so only the process table shows it.

The scan reads every process's environment once, straight from `/proc` where
there is one, and keeps only the processes whose board file is the audited
one: the same device and inode, seen from the process's own root and working
directory, never a comparison of path strings. A process whose environment
cannot be read (another user's) is counted, never judged. The scan runs
before the audit's read snapshot is taken, so a worker it sees was spawned
after its claim committed: the snapshot includes that claim, and a worker
whose run the snapshot shows ended, or whose task is no longer on that run,
can never become legitimate again (its environment cannot change).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from kanban_audit.auditor.board import BoardError
from kanban_audit.rulepack import RulePack, WorkersSection

PROC = "/proc"
# Linux and the like: read the process table directly (psutil elsewhere).
HAS_PROC = os.path.isdir(PROC)


@dataclass(frozen=True)
class Identity:
    """What makes a process the one the audit saw: PID and start time."""

    pid: int
    started_at: float

    def as_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "started_at": self.started_at}


@dataclass(frozen=True)
class Worker:
    """A process working for the audited board, as its environment says."""

    pid: int
    ppid: int
    started_at: float
    cmdline: tuple[str, ...]
    task: str
    run: int | None
    claim_lock: str | None


@dataclass(frozen=True)
class Scan:
    """This host's processes as one audit saw them: this board's workers and the counts."""

    host: str
    scanned: int
    unreadable: int
    workers: tuple[Worker, ...]
    board: tuple[int, int] = (0, 0)
    # Processes that name this board but whose user may not write it (`may_write`).
    foreign: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "scanned": self.scanned,
            "unreadable": self.unreadable,
            "foreign": self.foreign,
            "workers": len(self.workers),
        }


@dataclass(frozen=True)
class Stray:
    """A worker whose run is over, the evidence, and its descendants at plan time."""

    worker: Worker
    why: str
    short: str
    task_status: Any
    run_ended_at: Any
    run_outcome: Any
    descendants: tuple[Identity, ...]

    @property
    def identity(self) -> Identity:
        return Identity(self.worker.pid, self.worker.started_at)

    def as_dict(self) -> dict[str, Any]:
        w = self.worker
        return {
            "pid": w.pid,
            "started_at": w.started_at,
            "cmdline": list(w.cmdline),
            "task": w.task,
            "run": w.run,
            "claim_lock": w.claim_lock,
            "why": self.why,
            "task_status": self.task_status,
            "run_ended_at": self.run_ended_at,
            "run_outcome": self.run_outcome,
            "descendants": [d.as_dict() for d in self.descendants],
        }


def board_key(path: Path) -> tuple[int, int]:
    """The board file's identity: device and inode."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _pids() -> Iterator[int]:
    if HAS_PROC:
        yield from (int(name) for name in os.listdir(PROC) if name.isdigit())
    else:  # pragma: no cover - hosts without /proc
        yield from psutil.pids()


def read_environ(pid: int) -> bytes | None:
    """A process's raw environment (NUL-separated), b"" if it is gone, None if unreadable."""
    if HAS_PROC:
        try:
            with open(f"{PROC}/{pid}/environ", "rb", buffering=0) as handle:
                return handle.readall()
        except (FileNotFoundError, ProcessLookupError):
            return b""
        except OSError:
            return None
    try:  # pragma: no cover - hosts without /proc
        env = psutil.Process(pid).environ()
    except psutil.NoSuchProcess:
        return b""
    except (psutil.AccessDenied, OSError):
        return None
    return b"\0".join(f"{k}={v}".encode() for k, v in env.items())


def parse_environ(raw: bytes, names: Iterable[str]) -> dict[str, str]:
    """The wanted variables of a raw environment (undecodable values are dropped)."""
    wanted = {name.encode() + b"=" for name in names if name}
    out: dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep and key + b"=" in wanted:
            try:
                out[key.decode()] = value.decode()
            except UnicodeDecodeError:
                continue
    return out


def _seen_from(pid: int, path: str) -> str:
    """A path as the process sees it: from its own root and working directory."""
    if not HAS_PROC:  # pragma: no cover - hosts without /proc
        return path if os.path.isabs(path) else os.path.join(psutil.Process(pid).cwd(), path)
    if os.path.isabs(path):
        return f"{PROC}/{pid}/root{path}"
    return f"{PROC}/{pid}/cwd/{path}"


def parse_run(value: str | None) -> int | None:
    """The run id a worker's environment names (None when unset or not a number)."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


def environment_of(pid: int, spec: WorkersSection, board: tuple[int, int]) -> dict[str, str] | None:
    """The worker variables of a process that works for this board, else None."""
    raw = read_environ(pid)
    named = _board_env(pid, raw, spec, board) if raw else None
    return named[0] if named is not None and named[1] else None


def _board_env(
    pid: int, raw: bytes, spec: WorkersSection, board: tuple[int, int]
) -> tuple[dict[str, str], bool] | None:
    """The worker variables of a process whose environment names this board, and whether
    its user may write the board (`may_write`); None for any other process."""
    if (spec.env_task.encode() + b"=") not in raw:  # most processes stop here, unparsed
        return None
    env = parse_environ(raw, (spec.env_db, spec.env_task, spec.env_run, spec.env_claim_lock))
    db, task = env.get(spec.env_db), env.get(spec.env_task)
    if not db or not task:
        return None
    try:
        st = os.stat(_seen_from(pid, db))
    except (OSError, psutil.Error):
        return None
    if (st.st_dev, st.st_ino) != board:
        return None
    return env, may_write(pid, st)


def may_write(pid: int, board: os.stat_result) -> bool:
    """Whether the process's users, real and effective, may write the board file.

    An environment is text any user can set: a process of a user who cannot
    write the board (or one that gained another user by a set-user-ID
    program) names it, but was never spawned to work on it, and is not judged.
    """
    creds = _credentials(pid)
    if creds is None:
        return False
    uids, groups = creds
    return all(_writable(uid, groups, board) for uid in uids)


def _writable(uid: int, groups: frozenset[int], board: os.stat_result) -> bool:
    if uid == 0:
        return True
    if uid == board.st_uid:
        return bool(board.st_mode & stat.S_IWUSR)
    if board.st_gid in groups:
        return bool(board.st_mode & stat.S_IWGRP)
    return bool(board.st_mode & stat.S_IWOTH)


def _credentials(pid: int) -> tuple[tuple[int, int], frozenset[int]] | None:
    """A process's real and effective user ids and all its groups; None if unknown."""
    if not HAS_PROC:  # pragma: no cover - hosts without /proc
        try:
            proc = psutil.Process(pid)
            uids, gids = proc.uids(), proc.gids()
        except psutil.Error:
            return None
        return (uids.real, uids.effective), frozenset((gids.real, gids.effective))
    try:
        with open(f"{PROC}/{pid}/status", encoding="utf-8", errors="replace") as handle:
            lines = dict(line.partition(":")[::2] for line in handle)
        uid, euid = (int(v) for v in lines["Uid"].split()[:2])
        groups = lines["Gid"].split()[:2] + lines.get("Groups", "").split()
        return (uid, euid), frozenset(int(g) for g in groups)
    except (OSError, KeyError, ValueError):
        return None


def scan(spec: WorkersSection, board: Path, host: str) -> Scan:
    """Every process of this host whose environment names this board's file.

    A worker's children inherit its environment: a process whose parent
    works on the same task and run is part of that worker, not another one.
    """
    try:
        key = board_key(board)
    except OSError as exc:
        raise BoardError(f"cannot read board {board}: {exc.strerror}") from None
    own = os.getpid()
    scanned = unreadable = foreign = 0
    found: dict[int, dict[str, str]] = {}
    for pid in _pids():
        scanned += 1
        raw = read_environ(pid)
        if raw is None:
            unreadable += 1
        elif raw and pid != own:
            named = _board_env(pid, raw, spec, key)
            if named is not None and named[1]:
                found[pid] = named[0]
            elif named is not None:
                foreign += 1
    workers: dict[int, Worker] = {}
    for pid, env in found.items():
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                ppid, started, cmdline = proc.ppid(), proc.create_time(), proc.cmdline()
                zombie = proc.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            continue
        except psutil.AccessDenied:
            unreadable += 1
            continue
        if not zombie:
            workers[pid] = Worker(
                pid=pid,
                ppid=ppid,
                started_at=started,
                cmdline=tuple(cmdline),
                task=env[spec.env_task],
                run=parse_run(env.get(spec.env_run)),
                claim_lock=env.get(spec.env_claim_lock),
            )
    mine = _ancestors()
    tops = tuple(w for w in workers.values() if not _inside(w, workers) and w.pid not in mine)
    return Scan(host, scanned, unreadable, tops, key, foreign)


def _inside(worker: Worker, workers: dict[int, Worker]) -> bool:
    """Whether an ancestor of the process works on the same task and run."""
    seen = {worker.pid}
    parent = workers.get(worker.ppid)
    while parent is not None and parent.pid not in seen:
        if (parent.task, parent.run) == (worker.task, worker.run):
            return True
        seen.add(parent.pid)
        parent = workers.get(parent.ppid)
    return False


def _ancestors() -> set[int]:
    """This process's ancestors: a worker that runs the audit as a tool is never judged."""
    try:
        return {p.pid for p in psutil.Process().parents()}
    except psutil.Error:
        return set()


def judge(
    pack: RulePack,
    board: tuple[int, int],
    workers: Iterable[Worker],
    tasks: dict[Any, dict[str, Any]],
    runs: dict[Any, dict[str, Any]] | None,
    now: float,
    grace: float = 0.0,
) -> list[Stray]:
    """The strays among the workers, given the rows of the tasks and runs they name
    (`runs` None: the board has no run table).

    A worker is healthy while its task is in the guarded state on the
    worker's run and that run is open; anything else is a stray, but for a
    worker whose run ended less than `grace` seconds ago: a worker that
    completes or blocks its own task ends its run and exits a moment later.
    """
    t, r = pack.tasks, pack.runs
    strays = []
    for worker in workers:
        task = tasks.get(worker.task)
        run = runs.get(worker.run) if runs is not None else None
        verdict = _verdict(pack, worker, task, run, runs is not None, now, grace)
        if verdict is not None:
            why, short = verdict
            strays.append(
                Stray(
                    worker=worker,
                    why=why,
                    short=short,
                    task_status=(task or {}).get(t.status),
                    run_ended_at=(run or {}).get(r.ended_at),
                    run_outcome=(run or {}).get(r.outcome),
                    descendants=descendants(worker, pack.workers, board),
                )
            )
    return strays


def _verdict(
    pack: RulePack,
    worker: Worker,
    task: dict[str, Any] | None,
    run: dict[str, Any] | None,
    runs_known: bool,
    now: float,
    grace: float,
) -> tuple[str, str] | None:
    """(why, the short reason for the action) for a stray; None for a healthy worker."""
    t, r = pack.tasks, pack.runs
    pid, number = worker.pid, worker.run
    if run is not None and run.get(r.ended_at) is not None:
        ended = run[r.ended_at]
        if isinstance(ended, (int, float)) and now - ended < grace:
            return None
        outcome = run.get(r.outcome) or "ended"
        ago = f", {max(now - ended, 0) / 60:.0f} min ago" if isinstance(ended, (int, float)) else ""
        short = f"run #{number} ended as {outcome}{ago}"
        return f"worker {pid}: {short}", short
    if number is not None and run is None and runs_known:
        short = f"run #{number} does not exist"
        return f"worker {pid}: {short}", short
    key = worker.task if task is None else task[t.id]  # as the board keeps it (5, not "5")
    if run is not None and run.get(r.task, key) != key:
        short = f"run #{number} belongs to task {run[r.task]!r}"
        return f"worker {pid}: {short}", short
    if task is None:
        return f"worker {pid}: its task does not exist", "task does not exist"
    if task[t.status] != t.guarded:
        short = f"task is {task[t.status]!r}"
        return f"worker {pid}: run #{number}, {short}", short
    current = task.get(t.current_run) if t.current_run in task else number
    if number is not None and current != number:
        short = f"task's current run is #{current}"
        return f"worker {pid}: run #{number}, {short}", short
    return None


def descendants(
    worker: Worker, spec: WorkersSection, board: tuple[int, int]
) -> tuple[Identity, ...]:
    """A worker's living descendants with their start times (what repair may end with it).

    A descendant whose environment names this board with another task or run
    (a worker a dispatcher spawned from one of the stray's tools) is a worker
    of its own, judged on its own: it and its subtree are never part of this one.
    """
    out: list[Identity] = []
    own = (worker.task, worker.run)
    try:
        level = psutil.Process(worker.pid).children()
    except psutil.Error:
        return ()
    seen = {worker.pid}
    while level:
        below = []
        for child in level:
            if child.pid in seen or not part_of(works_on(child.pid, spec, board), own):
                continue
            seen.add(child.pid)
            try:
                out.append(Identity(child.pid, child.create_time()))
                below += child.children()
            except psutil.Error:
                continue
        level = below
    return tuple(out)


def works_on(
    pid: int, spec: WorkersSection, board: tuple[int, int]
) -> tuple[str, int | None] | None:
    """The task and run a process works on for this board, by its environment; else None."""
    env = environment_of(pid, spec, board)
    return None if env is None else (env[spec.env_task], parse_run(env.get(spec.env_run)))


def part_of(works: tuple[str, int | None] | None, own: tuple[str, int | None]) -> bool:
    """Whether a process below a worker belongs to it, by what it works on (`works_on`):
    no task of this board, or the worker's own task and run."""
    return works is None or works == own
