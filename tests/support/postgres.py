"""A throwaway PostgreSQL server: the real database says what SQL text does.

The server runs from the machine's own PostgreSQL (`initdb`, `pg_ctl`, `psql` on
PATH) in a temporary folder, reached only by its Unix socket; as root (which
PostgreSQL refuses to run as) it runs as the `postgres` user through `runuser`.
Where any of that is missing, the tests that need it are skipped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Server:
    socket_dir: Path
    port: int
    psql: str

    def ask(self, *statements: str) -> str:
        """Each statement in its own transaction (one that fails does not stop the
        next); what the last one prints, rows as `a|b` lines."""
        command = [self.psql, "-h", str(self.socket_dir), "-p", str(self.port)]
        command += ["-U", "oracle", "-d", "postgres", "-X", "-q", "-t", "-A"]
        for statement in statements:
            command += ["-c", statement]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
        return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


@contextmanager
def server() -> Iterator[Server]:
    """A running server with a superuser `oracle`, stopped and removed afterwards."""
    tools = [shutil.which(name) for name in ("initdb", "pg_ctl", "psql")]
    if not all(tools):
        pytest.skip("PostgreSQL (initdb, pg_ctl, psql) is not installed")
    initdb, pg_ctl, psql = tools
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="kanban-audit-pg-"))
    try:
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no `postgres` user to run a server")
            if runuser is None:
                pytest.skip("running as root and there is no `runuser` to run a server")
            os.chown(base, owner.pw_uid, owner.pw_gid)
            as_user = [runuser, "-u", "postgres", "--"]
        data = base / "data"
        setup = [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "oracle"]
        subprocess.run(setup, check=True, capture_output=True, timeout=120)
        port = _free_port()
        options = f"-p {port} -k {base} -c listen_addresses='' -c fsync=off"
        start = [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w"]
        subprocess.run([*start, "start"], check=True, capture_output=True, timeout=120)
        try:
            yield Server(base, port, psql)  # type: ignore[arg-type]
        finally:
            stop = [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"]
            subprocess.run(stop, capture_output=True, timeout=120)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
