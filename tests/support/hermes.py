"""Real Hermes agent releases from the package index: pinned, hash-checked, cached.

Tests and benchmarks use the real `hermes_cli/kanban_db.py` and the dashboard
plugin of every release as the oracle. Wheels are fetched with
`pip download --no-deps`, checked against the sha256 pinned here, and unpacked
once into a cache folder (`$KANBAN_AUDIT_TEST_CACHE`, else
`~/.cache/kanban-audit-tests`). Nothing of them is committed. A failed download
or a hash mismatch raises: a missing oracle is a failure, never a skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

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


class ReleaseUnavailable(RuntimeError):
    """The release could not be downloaded or did not match its pinned hash."""


def cache_root() -> Path:
    configured = os.environ.get("KANBAN_AUDIT_TEST_CACHE")
    root = Path(configured) if configured else Path.home() / ".cache" / "kanban-audit-tests"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel(version: str) -> Path:
    """The release's wheel, downloaded once and checked against its pinned sha256."""
    expected = RELEASES[version]
    target = cache_root() / f"hermes_agent-{version}-py3-none-any.whl"
    if target.is_file() and _sha256(target) == expected:
        return target
    with tempfile.TemporaryDirectory(dir=cache_root()) as tmp:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                tmp,
                f"hermes-agent=={version}",
            ],
            capture_output=True,
            text=True,
        )
        found = sorted(Path(tmp).glob("hermes_agent-*.whl"))
        if done.returncode != 0 or not found:
            reason = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
            raise ReleaseUnavailable(f"hermes-agent=={version}: download failed: {reason}")
        actual = _sha256(found[0])
        if actual != expected:
            raise ReleaseUnavailable(
                f"hermes-agent=={version}: sha256 {actual} does not match the pinned {expected}"
            )
        os.replace(found[0], target)
    return target


def unpacked(version: str) -> Path:
    """The release's files, unpacked once: the folder holds `hermes_cli/`, `plugins/`..."""
    folder = cache_root() / f"hermes-agent-{version}"
    marker = folder / ".complete"
    if marker.is_file() and marker.read_text() == RELEASES[version]:
        return folder
    source = wheel(version)
    staging = Path(tempfile.mkdtemp(dir=cache_root(), prefix=f".unpack-{version}-"))
    try:
        with zipfile.ZipFile(source) as archive:
            archive.extractall(staging)
        (staging / ".complete").write_text(RELEASES[version])
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


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
