"""Is a running task's worker alive? Evidence from this host's process table.

A PID means something only on the host that recorded it, so the host comes
from the claim lock, which Hermes writes as `"<hostname>:<pid>"` (the
claimer's `socket.gethostname()` and process id), and must equal this host's
`socket.gethostname()` exactly. `worker-2.example` and `worker-2.other` share a
short name and are different machines; a short name and a fully qualified one
may be too. A lock in any other form (`vm`, `:4242`, `vm:`, `:`) names no host
that can be proven to be this one, and a PID with no lock at all (or on a board
without the lock column) could have been written anywhere: nothing is guessed
from such a PID. On this host psutil tells whether the process exists, is a
zombie, and (where the board stores the worker's start time) whether it is
still the same process or a reused PID.

No PID is not a dead PID: lanes that claim with a one-shot process never record
one, and the claim's expiry (KD003) is what says such a task was abandoned.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass

import psutil

# Start times are recorded and read with sub-second noise; a reused PID starts
# later than the worker did by far more than this.
FINGERPRINT_TOLERANCE_S = 1.0

ALIVE = "alive"
DEAD = "dead"
REMOTE = "remote"
UNKNOWN = "unknown"
# Hermes' claim lock, exactly: `f"{socket.gethostname()}:{os.getpid()}"`.
CLAIM_LOCK = re.compile(r"([^:]+):([1-9][0-9]*)")


@dataclass(frozen=True)
class Liveness:
    """The verdict on one worker and the facts behind it."""

    state: str
    detail: str
    host: str | None
    pid: int | None

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state, "host": self.host, "pid": self.pid, "detail": self.detail}


class ProcessTable:
    """This host's processes as seen by one audit: each PID is inspected once.

    Returns (status, start time) or None when there is no such process; a
    process we may not inspect counts as existing, with an unknown start.
    """

    def __init__(self) -> None:
        self._seen: dict[int, tuple[str, float | None] | None] = {}

    def lookup(self, pid: int) -> tuple[str, float | None] | None:
        if pid not in self._seen:
            self._seen[pid] = self._inspect(pid)
        return self._seen[pid]

    @staticmethod
    def _inspect(pid: int) -> tuple[str, float | None] | None:
        if not psutil.pid_exists(pid):
            return None
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                return proc.status(), proc.create_time()
        except psutil.NoSuchProcess:
            return None
        except psutil.AccessDenied:
            return "unknown", None


def claim_host(claim_lock: object) -> str | None:
    """The hostname of a claim lock in Hermes' exact form `"<hostname>:<pid>"`, else None."""
    match = CLAIM_LOCK.fullmatch(claim_lock) if isinstance(claim_lock, str) else None
    return match.group(1) if match else None


def same_host(host: str, local: str) -> bool:
    """Whether a claim's host is this host: the exact name, as the claimer wrote it.

    Hermes builds its claim lock from `socket.gethostname()` and itself treats
    a claim as local only when the lock starts with its own `"<hostname>:"`.
    The short part of a name proves nothing (two machines in two domains share
    it), and an empty local name matches nothing.
    """
    return bool(local) and host == local


def local_hostname() -> str:
    """This host's name in the form the claim path writes it into `claim_lock`."""
    return socket.gethostname()


def _as_pid(value: object) -> int | None:
    try:
        pid = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return pid if pid > 0 else None


def _as_float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def check(
    claim_lock: object,
    worker_pid: object,
    fingerprint: object,
    *,
    hostname: str,
    probe: ProcessTable,
) -> Liveness:
    """Judge one running task's worker without guessing.

    - a claim lock that is not exactly `"<this host>:<pid>"`: REMOTE (KD006),
      nothing checked; so is a PID with no claim lock to say where it ran;
    - no PID: UNKNOWN, never DEAD (the claim's expiry decides);
    - PID on this host: process gone or zombie -> DEAD; start time differs
      from the stored fingerprint -> DEAD (PID reused); otherwise ALIVE.
    """
    host = claim_host(claim_lock)
    pid = _as_pid(worker_pid)
    if host is not None and not same_host(host, hostname):
        return Liveness(REMOTE, f"claimed on host {host!r}, this is {hostname!r}", host, pid)
    if host is None and claim_lock is not None and claim_lock != "":
        detail = f"claim lock {claim_lock!r} does not name this host as '<hostname>:<pid>'"
        return Liveness(REMOTE, detail, None, pid)
    if pid is None:
        return Liveness(UNKNOWN, "no worker PID recorded; the claim's expiry decides", host, None)
    if host is None:
        detail = f"PID {pid} but no claim lock to say which host it is on"
        return Liveness(REMOTE, detail, None, pid)
    return _process(pid, _as_float(fingerprint), host, probe)


def _process(pid: int, started: float | None, host: str, probe: ProcessTable) -> Liveness:
    seen = probe.lookup(pid)
    if seen is None:
        return Liveness(DEAD, f"no process {pid} on this host", host, pid)
    status, created = seen
    if status == psutil.STATUS_ZOMBIE:
        return Liveness(DEAD, f"process {pid} is a zombie", host, pid)
    if started is not None and started > 1e11:  # stored in milliseconds
        started /= 1000
    if (
        created is not None
        and started is not None
        and abs(created - started) > FINGERPRINT_TOLERANCE_S
    ):
        return Liveness(
            DEAD,
            f"PID {pid} reused: process started at {created:.0f}, worker at {started:.0f}",
            host,
            pid,
        )
    return Liveness(ALIVE, f"process {pid} is {status}", host, pid)
