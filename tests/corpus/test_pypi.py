"""Unpacking a downloaded file: once, atomically, and never outside its folder."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from support import pypi


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("KANBAN_AUDIT_TEST_CACHE", str(root))
    return root


def cached(cache: Path, file: str, data: bytes) -> pypi.Pin:
    """A pin for a file already in the cache with its right hash: no download."""
    cache.mkdir(parents=True, exist_ok=True)
    (cache / file).write_bytes(data)
    return pypi.Pin("board", "1.0", file, pypi.sha256(cache / file))


def wheel(members: dict[str, str], links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return out.getvalue()


def sdist(members: dict[str, str], links: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, kind in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = "/etc/passwd"
            archive.addfile(info)
    return out.getvalue()


def test_a_wheel_is_unpacked_once(cache: Path) -> None:
    pin = cached(cache, "board-1.0-py3-none-any.whl", wheel({"board/core.py": "x = 1\n"}))
    root = pypi.unpacked(pin)
    assert (root / "board" / "core.py").read_text() == "x = 1\n"
    (root / "board" / "core.py").write_text("changed\n")
    assert pypi.unpacked(pin) == root
    assert (root / "board" / "core.py").read_text() == "changed\n"  # not unpacked again


def test_an_sdist_loses_its_top_folder(cache: Path) -> None:
    files = {"board-1.0/board/core.py": "x = 1\n", "board-1.0/PKG-INFO": "Name: board\n"}
    root = pypi.unpacked(cached(cache, "board-1.0.tar.gz", sdist(files)))
    assert (root / "board" / "core.py").is_file() and (root / "PKG-INFO").is_file()
    assert root != pypi.folder(pypi.Pin("board", "1.0", "board-1.0-py3-none-any.whl", "0" * 64))


def test_a_half_unpacked_folder_is_unpacked_again(cache: Path) -> None:
    pin = cached(cache, "board-1.0-py3-none-any.whl", wheel({"board/core.py": "x = 1\n"}))
    pypi.folder(pin).mkdir(parents=True)
    (pypi.folder(pin) / "stale.py").write_text("")
    root = pypi.unpacked(pin)
    assert (root / "board" / "core.py").is_file() and not (root / "stale.py").exists()


@pytest.mark.parametrize(
    "name", ["../outside.py", "board/../../outside.py", "/tmp/outside.py", "C:/outside.py"]
)
def test_a_wheel_member_outside_the_folder_refuses_the_file(cache: Path, name: str) -> None:
    pin = cached(cache, "board-1.0-py3-none-any.whl", wheel({"board/a.py": "", name: "bad"}))
    with pytest.raises(pypi.Unavailable, match="escapes the folder"):
        pypi.unpacked(pin)
    assert not pypi.folder(pin).exists() and not (cache.parent / "outside.py").exists()
    assert [p.name for p in cache.iterdir()] == [pin.file]  # no staging folder left


def test_a_link_in_a_wheel_refuses_the_file(cache: Path) -> None:
    pin = cached(cache, "board-1.0-py3-none-any.whl", wheel({"board/a.py": ""}, ("board/l",)))
    with pytest.raises(pypi.Unavailable, match="is a link"):
        pypi.unpacked(pin)
    assert not pypi.folder(pin).exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE])
def test_a_link_or_device_in_an_sdist_refuses_the_file(cache: Path, kind: bytes) -> None:
    data = sdist({"board-1.0/board/a.py": ""}, {"board-1.0/board/l": kind})
    pin = cached(cache, "board-1.0.tar.gz", data)
    with pytest.raises(pypi.Unavailable, match="is a link or device"):
        pypi.unpacked(pin)
    assert not pypi.folder(pin).exists()


def test_an_sdist_member_outside_the_folder_refuses_the_file(cache: Path) -> None:
    pin = cached(cache, "board-1.0.tar.gz", sdist({"board-1.0/../../outside.py": "bad"}))
    with pytest.raises(pypi.Unavailable, match="escapes the folder"):
        pypi.unpacked(pin)
    assert not (cache.parent / "outside.py").exists()


def test_a_pin_names_a_wheel_or_an_sdist_file() -> None:
    for file in ("board-1.0.zip", "../board-1.0.tar.gz", "a/board-1.0-py3-none-any.whl"):
        with pytest.raises(ValueError):
            pypi.Pin("board", "1.0", file, "0" * 64)
