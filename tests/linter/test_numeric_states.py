"""A board whose states are numbers (`status = 1` for locked): a number written by
SQL, bound as a parameter or taken from an IntEnum is the text the column stores."""

from __future__ import annotations

from pathlib import Path

from support.cli import run_json

PACK = """\
[tasks]
table = "queue"
status = "status"
# MessageStatus.LOCKED
guarded = "1"

[lint]
sanctioned = ["pop"]
"""

QUEUE = """\
import enum


class MessageStatus(enum.IntEnum):
    READY = 0
    LOCKED = 1
    DONE = 2


def pop(conn, mid):
    conn.execute("UPDATE queue SET status = 1 WHERE id = ?", (mid,))


def lock_literal(conn, mid):
    conn.execute("UPDATE queue SET status = 1 WHERE id = ?", (mid,))


def lock_bound(conn, mid):
    conn.execute("UPDATE queue SET status = ? WHERE id = ?", (1, mid))


def lock_member(conn, mid):
    conn.execute(f"UPDATE queue SET status = {MessageStatus.LOCKED.value} WHERE id = ?", (mid,))


def done_literal(conn, mid):
    conn.execute("UPDATE queue SET status = 2 WHERE id = ?", (mid,))


def ready_bound(conn, mid):
    conn.execute("UPDATE queue SET status = ? WHERE id = ?", (MessageStatus.READY.value, mid))


def priority(conn, mid):
    conn.execute("UPDATE queue SET priority = 1, status = status WHERE id = ?", (mid,))
"""


def test_numbers_are_judged_as_the_texts_stored(tmp_path: Path) -> None:
    (tmp_path / "pack.toml").write_text(PACK)
    (tmp_path / "queue.py").write_text(QUEUE)
    code, report = run_json("lint", "--rules", "pack.toml", "--no-cache", cwd=tmp_path)
    found = [(f["code"], f["symbol"]) for f in report["findings"]]
    assert found == [
        ("KA001", "queue.lock_literal"),
        ("KA001", "queue.lock_bound"),
        ("KA001", "queue.lock_member"),
    ]
    assert code == 1
