"""End a stray worker and its descendants: SIGTERM, a grace period, then SIGKILL.

A PID is only a number: by the time repair runs, the planned process may have
exited and another taken its number. So immediately before every signal the
process is read again and must still be the one the audit planned: the same
start time, and for the worker the same environment (this board's file, the
same task and run). Where the kernel offers a process file descriptor
(`pidfd_open`, Linux 5.3), the descriptor is opened first and the signal sent
through it, so the check and the signal reach the same process even if the PID
is reused in between. A worker runs its tools in child processes; the ones
captured at plan time (with their start times) are ended with it, each
verified the same way.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from kanban_audit.auditor.workers import Identity, Stray, board_key, part_of, works_on
from kanban_audit.rulepack import WorkersSection
from kanban_audit.terminal import plural

POLL_S = 0.05
# How long a process may take to disappear after SIGKILL (it may be in the kernel).
KILL_WAIT_S = 5.0
GONE = "gone"
ENDED = "ended"
# Ctrl-C came before the process was seen to end: no further signal was sent.
INTERRUPTED = "interrupted"


@dataclass
class Target:
    """One process to end and what happened to it."""

    identity: Identity
    role: str
    signals: list[str] = field(default_factory=list)
    result: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.identity.as_dict(),
            "role": self.role,
            "signals": self.signals,
            "result": self.result,
        }


def _difference(
    target: Identity,
    spec: WorkersSection,
    board: tuple[int, int],
    expect: Callable[[tuple[str, int | None] | None], bool] | None,
) -> str | None:
    """None while the PID names the planned process; else GONE or why it is another.

    `expect` judges the task and run the process works on for this board (None
    when its environment names no task of this board).
    """
    try:
        proc = psutil.Process(target.pid)
        with proc.oneshot():
            started, status = proc.create_time(), proc.status()
    except psutil.NoSuchProcess:
        return GONE
    except psutil.AccessDenied:
        return f"process {target.pid} cannot be inspected"
    if status == psutil.STATUS_ZOMBIE:
        return GONE
    if started != target.started_at:
        return (
            f"PID {target.pid} names another process"
            f" (started at {started:.2f}, the planned one at {target.started_at:.2f})"
        )
    if expect is not None and not expect(works_on(target.pid, spec, board)):
        return f"process {target.pid} no longer works for this board's task and run"
    return None


def _send(pid: int, sig: signal.Signals, check: Callable[[], str | None]) -> str | None:
    """Check, then signal the same process; None when sent, else why not."""
    fd = None
    try:
        if hasattr(os, "pidfd_open"):
            try:
                fd = os.pidfd_open(pid)
            except ProcessLookupError:
                return GONE
            except OSError:  # an old kernel: check and signal by PID
                fd = None
        reason = check()
        if reason is not None:
            return reason
        if fd is not None:
            signal.pidfd_send_signal(fd, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return GONE
    except PermissionError:  # another user's by now (a set-user-ID program it ran)
        return f"not permitted to signal process {pid}"
    finally:
        if fd is not None:
            os.close(fd)
    return None


def stop(
    stray: Stray,
    spec: WorkersSection,
    board: Path,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> list[Target]:
    """End a stray and its planned descendants; each target's signals and result.

    A worker that is no longer provably the planned process is left alone,
    and so are its descendants; a worker that exited on its own leaves its
    descendants to be ended.
    """
    key = board_key(board)
    own = (stray.worker.task, stray.worker.run)
    worker = Target(stray.identity, "worker")
    targets = [worker] + [Target(d, "descendant") for d in stray.descendants]

    def expect(target: Target) -> Callable[[tuple[str, int | None] | None], bool]:
        if target is worker:
            return lambda works: works == own
        return lambda works: part_of(works, own)

    def check(target: Target) -> Callable[[], str | None]:
        return lambda: _difference(target.identity, spec, key, expect(target))

    def deliver(target: Target, sig: signal.Signals) -> None:
        reason = _send(target.identity.pid, sig, check(target))
        if reason is None:
            target.signals.append(sig.name)
        else:
            target.result = ENDED if reason == GONE and target.signals else reason

    try:
        deliver(worker, signal.SIGTERM)
        if worker.result not in ("", GONE):
            for target in targets[1:]:
                target.result = "left alone: the worker is not the planned process"
            return targets
        for target in targets[1:]:
            deliver(target, signal.SIGTERM)
        _wait(targets, spec, key, clock() + spec.stop_grace_seconds, clock)
        for target in targets:
            if not target.result:
                deliver(target, signal.SIGKILL)
        _wait(targets, spec, key, clock() + KILL_WAIT_S, clock)
    except KeyboardInterrupt:
        # Signals already sent are facts to report and record; no further one is sent.
        for target in targets:
            target.result = target.result or INTERRUPTED
        return targets
    for target in targets:
        target.result = target.result or "still alive after SIGKILL"
    return targets


def _wait(
    targets: list[Target],
    spec: WorkersSection,
    key: tuple[int, int],
    deadline: float,
    clock: Callable[[], float],
) -> None:
    """Poll until every signalled target is gone or the deadline passes."""
    while True:
        for target in targets:
            running = target.signals and not target.result
            if running and _difference(target.identity, spec, key, None) is not None:
                target.result = ENDED
        if all(t.result for t in targets) or clock() >= deadline:
            return
        time.sleep(POLL_S)


@dataclass(frozen=True)
class Ended:
    """One stray after repair: what its event records (None: nothing was signalled),
    whether the worker is gone, and the line for the report."""

    record: dict[str, Any] | None
    ended: bool
    detail: str
    interrupted: bool = False


def end(stray: Stray, spec: WorkersSection, board: Path) -> Ended:
    """Stop a stray (see `stop`) and say what happened.

    A worker that exited before repair reached it counts as ended only when
    it left descendants that repair ended; alone, nothing was done. Stopped by
    Ctrl-C, it says which signals went out before.
    """
    targets = stop(stray, spec, board)
    worker, pid = targets[0], stray.worker.pid
    signalled = any(t.signals for t in targets)
    record = (
        {
            "task": stray.worker.task,
            "run": stray.worker.run,
            "processes": [t.as_dict() for t in targets],
        }
        if signalled
        else None
    )
    if any(t.result == INTERRUPTED for t in targets):
        sent = ", ".join(f"{'+'.join(t.signals)} to {t.identity.pid}" for t in targets if t.signals)
        detail = f"{INTERRUPTED} after {sent}" if sent else f"{INTERRUPTED} before any signal"
        return Ended(record, False, f"worker {pid}: {detail}", interrupted=True)
    rest = sum(t.result == ENDED for t in targets[1:])
    tail = f" and {plural(rest, 'descendant')}" if rest else ""
    if worker.result == ENDED:
        return Ended(record, True, f"terminated worker {pid} ({', '.join(worker.signals)}){tail}")
    if worker.result == GONE and rest:
        return Ended(
            record, True, f"worker {pid} had exited; terminated {plural(rest, 'descendant')}"
        )
    if worker.result == GONE:
        return Ended(record, False, f"worker {pid} had exited before repair reached it")
    return Ended(record, False, f"worker {pid}: {worker.result}")
