"""Real Hermes agent releases from the package index: pinned, hash-checked, cached.

Tests and benchmarks use the real `hermes_cli/kanban_db.py` and the dashboard
plugin of every release as the oracle. The wheels are fetched, checked against
the sha256 pinned here and unpacked by `support.pypi`: nothing of them is
committed, and a failed download or a hash mismatch raises, never skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from support import pypi

# version -> sha256 of hermes_agent-<version>-py3-none-any.whl
RELEASES: dict[str, str] = {
    "0.13.0": "e11a8c57c1f57d9a1319ada006889ecde8ed8179c4f8f57af79c65de0033be11",
    "0.14.0": "67d79bd761f846a7e84b8b1be6fdf8bc38e789357cf7f4f474de165e9ce1739c",
    "0.15.0": "9061f1364d73ab63574badf382a306d5f5bdeec6b13986b1f4341dfee8dba02d",
    "0.16.0": "accb5a4a4827b41b3d162d2eb0b5f6db585d942ee23a3678ef21fc94d21c34a2",
    "0.17.0": "f11dcc1b168d2db626ef8b2175301741a86b5247c5ffaff4b0f0e24018d1b190",
    "0.18.0": "bf75c02d59f7c464cd0d85026fb7ee2e6bb15f003beccab3442b572f1ae1fd37",
    "0.19.0": "bd0bac012aee38a60894781f4597dc29ee7bedb3448540249921f10d3bef327f",
}
# Releases whose dashboard bulk-update endpoint still writes `running` directly.
BULK_BUG = {"0.13.0", "0.14.0"}
# The script that runs one release's real functions in a process of its own.
DRIVER = Path(__file__).with_name("hermes_driver.py")


# The release could not be downloaded or did not match its pinned hash.
ReleaseUnavailable = pypi.Unavailable
cache_root = pypi.cache_root


def pin(version: str) -> pypi.Pin:
    """The release's wheel as the index serves it."""
    return pypi.Pin(
        "hermes-agent", version, f"hermes_agent-{version}-py3-none-any.whl", RELEASES[version]
    )


def wheel(version: str) -> Path:
    """The release's wheel, downloaded once and checked against its pinned sha256."""
    return pypi.download(pin(version))


def unpacked(version: str) -> Path:
    """The release's files, unpacked once: the folder holds `hermes_cli/`, `plugins/`..."""
    return pypi.unpacked(pin(version))


def _driver_command(version: str, home: Path) -> list[str]:
    return [sys.executable, str(DRIVER), str(unpacked(version)), str(home)]


def _driver_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERMES_")}
    return {**env, **(extra or {})}


def start(
    version: str, home: Path, steps: list[dict[str, Any]], env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Run steps with a release's real functions in the background (see hermes_driver.py)."""
    proc = subprocess.Popen(
        _driver_command(version, home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_driver_env(env),
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(steps))
    proc.stdin.close()
    return proc


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> list[dict[str, Any]]:
    """Wait for a driver and return each step's result; a crash of the driver fails."""
    assert proc.stdout is not None and proc.stderr is not None
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != 0 or not out.strip():
        raise AssertionError(f"hermes driver failed ({proc.returncode}):\n{err}")
    return json.loads(out.strip().splitlines()[-1])["results"]


def drive(
    version: str, home: Path, *steps: dict[str, Any], env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Run steps with a release's real functions on the board in `home`; their results."""
    return finish(start(version, home, list(steps), env))
