"""One pinned distribution file from the package index: downloaded, hash-checked, unpacked.

The tests lint and run real code from PyPI (the Hermes releases, the corpus of
task boards). Nothing of it is committed: `pip download --no-deps` fetches the
pinned file (a wheel, or an sdist `.tar.gz`), its sha256 must match the pin,
and it is unpacked once into the test cache (`$KANBAN_AUDIT_TEST_CACHE`, else
`~/.cache/kanban-audit-tests`). A failed download or a hash mismatch raises: a
missing oracle is a failure, never a skip. The archive is input like any other:
a member that would land outside its folder (an absolute path, `..`, a link)
refuses the whole file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

WHEEL = ".whl"
SDIST = ".tar.gz"
COMPLETE = ".complete"


class Unavailable(RuntimeError):
    """The file could not be downloaded, did not match its pin, or is unsafe to unpack."""


@dataclass(frozen=True)
class Pin:
    """One file of one release: what `pip download` must fetch, and its sha256."""

    name: str  # the distribution, as `pip download name==version` takes it
    version: str
    file: str  # e.g. liteq-0.2.1-py3-none-any.whl, or pgtq-0.1.0.tar.gz
    sha256: str

    def __post_init__(self) -> None:
        if not self.file.endswith((WHEEL, SDIST)):
            raise ValueError(f"{self.file}: a wheel ({WHEEL}) or an sdist ({SDIST})")
        if "/" in self.file or "\\" in self.file or self.file.startswith("."):
            raise ValueError(f"{self.file!r} is not a file name")

    @property
    def is_wheel(self) -> bool:
        return self.file.endswith(WHEEL)

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


def cache_root() -> Path:
    configured = os.environ.get("KANBAN_AUDIT_TEST_CACHE")
    root = Path(configured) if configured else Path.home() / ".cache" / "kanban-audit-tests"
    root.mkdir(parents=True, exist_ok=True)
    return root


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(pin: Pin) -> Path:
    """The pinned file, downloaded once into the cache and checked against its sha256."""
    target = cache_root() / pin.file
    if target.is_file() and sha256(target) == pin.sha256:
        return target
    only = "--only-binary=:all:" if pin.is_wheel else "--no-binary=:all:"
    with tempfile.TemporaryDirectory(dir=cache_root()) as tmp:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
            + ["--no-deps", only, "--dest", tmp, pin.requirement],
            capture_output=True,
            text=True,
        )
        fetched = Path(tmp) / pin.file
        if done.returncode != 0 or not fetched.is_file():
            got = sorted(p.name for p in Path(tmp).iterdir())
            reason = (done.stderr.strip().splitlines() or [f"fetched {got}, not {pin.file}"])[-1]
            raise Unavailable(f"{pin.requirement}: download failed: {reason}")
        actual = sha256(fetched)
        if actual != pin.sha256:
            raise Unavailable(
                f"{pin.requirement}: sha256 {actual} of {pin.file} does not match the pinned "
                f"{pin.sha256}"
            )
        os.replace(fetched, target)
    return target


def folder(pin: Pin) -> Path:
    """Where the file is unpacked (a wheel as `name-version`: the Hermes caches' name)."""
    suffix = "" if pin.is_wheel else "-sdist"
    return cache_root() / f"{pin.name}-{pin.version}{suffix}"


def unpacked(pin: Pin) -> Path:
    """The file's contents, unpacked once. A wheel's root holds its packages; an sdist's
    single top folder (`name-version/`) is taken off, so its root is the project's."""
    place = folder(pin)
    marker = place / COMPLETE
    if marker.is_file() and marker.read_text() == pin.sha256:
        return place
    source = download(pin)
    staging = Path(tempfile.mkdtemp(dir=cache_root(), prefix=f".unpack-{pin.name}-"))
    try:
        if pin.is_wheel:
            _unzip(source, staging)
        else:
            _untar(source, staging)
        (staging / COMPLETE).write_text(pin.sha256)
        shutil.rmtree(place, ignore_errors=True)
        os.replace(staging, place)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return place


def member_path(name: str, archive: Path) -> PurePosixPath:
    """An archive member's relative path, or Unavailable if it would leave the folder."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or ":" in (path.parts or ("",))[0]:
        raise Unavailable(f"{archive.name}: member {name!r} escapes the folder")
    return path


def _write(dest: Path, relative: PurePosixPath, data: IO[bytes]) -> None:
    target = dest.joinpath(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as out:
        shutil.copyfileobj(data, out)


def _unzip(source: Path, dest: Path) -> None:
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            relative = member_path(info.filename, source)
            if not relative.parts:
                continue
            mode = info.external_attr >> 16
            if (mode & 0o170000) == 0o120000:
                raise Unavailable(f"{source.name}: member {info.filename!r} is a link")
            if info.is_dir():
                dest.joinpath(*relative.parts).mkdir(parents=True, exist_ok=True)
                continue
            with archive.open(info) as data:
                _write(dest, relative, data)


def _untar(source: Path, dest: Path) -> None:
    with tarfile.open(source, "r:gz") as archive:
        members = [(m, member_path(m.name, source).parts) for m in archive.getmembers()]
        members = [(m, parts) for m, parts in members if parts]  # `.` itself
        tops = {parts[0] for _, parts in members}
        strip = 1 if len(tops) == 1 and any(len(parts) > 1 for _, parts in members) else 0
        for member, parts in members:
            if not (member.isfile() or member.isdir()):
                raise Unavailable(f"{source.name}: member {member.name!r} is a link or device")
            if not parts[strip:]:
                continue
            relative = PurePosixPath(*parts[strip:])
            if member.isdir():
                dest.joinpath(*relative.parts).mkdir(parents=True, exist_ok=True)
            else:
                data = archive.extractfile(member)
                assert data is not None  # a regular file always has data
                _write(dest, relative, data)
