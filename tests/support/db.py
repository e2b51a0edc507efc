"""Compare boards by content, read without touching the file."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any


def row_hashes(path: Path, table: str, key: str = "rowid") -> dict[Any, str]:
    """A content hash per row, keyed by `key`, read without touching the file."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cur = conn.execute(f"SELECT {key}, * FROM {table} ORDER BY rowid")
        return {row[0]: hashlib.sha256(repr(row[1:]).encode()).hexdigest() for row in cur}
    finally:
        conn.close()


def board_hash(path: Path, tables: tuple[str, ...] = ("tasks", "task_runs", "task_events")) -> str:
    """One hash over every row of the board's tables: equal means nothing changed."""
    digest = hashlib.sha256()
    for table in tables:
        digest.update(repr(sorted(row_hashes(path, table).items())).encode())
    return digest.hexdigest()


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder` with its size and modification time: equal means untouched."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def rows(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
