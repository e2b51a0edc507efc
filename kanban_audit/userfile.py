"""Reading a file the user points at (a config, a rule pack, a baseline).

The path may come from a configuration inside the analysed tree, so it is
not trusted: only a regular file of a sane size is read. A FIFO would block
the run forever and `/dev/zero` would never end, so both are refused before
any read; every failure is one `UsageError` line naming what was expected.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from kanban_audit.errors import UsageError

MAX_BYTES = 16 * 1024 * 1024


def read_user_text(path: Path, what: str) -> str:
    """The UTF-8 text of `path`; `what` ("rule pack") names it in the error.

    Opened without blocking and checked on the open descriptor, so a file
    swapped for a FIFO between a check and the read cannot hang the run.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"{what} is a directory: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"{what} is a directory: {path}")
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{what} is not a regular file: {path}")
        if info.st_size > MAX_BYTES:
            raise UsageError(f"{what} is too large ({info.st_size // 1048576} MiB): {path}")
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path} is not UTF-8 text: {exc.reason}") from None
