"""Writing a report or a baseline whole, or not at all."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that no failure and no reader ever sees half a file.

    The text goes to a temporary file beside the target, which then replaces
    it in one rename: a full disk or a kill leaves the previous file as it
    was. A symlink to a regular file has its target replaced, not the link;
    a target that is not a regular file (`/dev/stdout`, a FIFO) is written in
    place. Raises OSError.
    """
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    target = Path(os.path.realpath(path)) if mode is not None else Path(path)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    """The process's umask (only readable by setting it), for a new file's usual mode."""
    current = os.umask(0o022)
    os.umask(current)
    return current
