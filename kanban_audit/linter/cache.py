"""Content-addressed cache of per-file summaries.

The key covers everything a summary depends on: the tool version, the SQL
method names from the rule pack, the module name, the reported path and the
file's bytes. A stale or unreadable entry is simply a miss.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from kanban_audit import __version__
from kanban_audit.linter.values import ModuleSummary

FORMAT = 2


def cache_key(content: bytes, module: str, display: str, sql_methods: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    header = "\x1f".join([__version__, str(FORMAT), module, display, ",".join(sql_methods)])
    digest.update(header.encode("utf-8") + b"\x00")
    digest.update(content)
    return digest.hexdigest()


class SummaryCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pickle"

    def get(self, key: str) -> ModuleSummary | None:
        try:
            with open(self._path(key), "rb") as handle:
                value = pickle.load(handle)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
            return None
        return value if isinstance(value, ModuleSummary) else None

    def put(self, key: str, summary: ModuleSummary) -> None:
        """Write atomically, so a concurrent run never reads half a file."""
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tag = self.folder / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
                (self.folder / ".gitignore").write_text("*\n")
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(summary, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only or full disk only costs speed
