"""A table name partly built from values not known here is a glob: judged as the
pack's table when every name it can be is, as a table not known here when some
may be, and not at all when none can be."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import run_json

from kanban_audit.linter import tablenames

PACK = """\
[tasks]
table = "ack_*"
status = "status"
guarded = "unack"

[lint]
sanctioned = ["pop"]
"""

QUEUE = """\
def pop(conn, name, item):
    conn.execute(f"UPDATE `ack_queue_{name}` SET status = 'unack' WHERE id = ?", (item,))


def retry(conn, name, item):
    conn.execute(f"UPDATE `ack_queue_{name}` SET status = 'unack' WHERE id = ?", (item,))


def requeue(conn, name, item):
    conn.execute(f"UPDATE ack_queue_{name} SET status = 'ready' WHERE id = ?", (item,))


def relocate(conn, name, item):
    conn.execute(f"UPDATE [{name}] SET status = 'unack' WHERE id = ?", (item,))


def mirror(conn, name, item):
    conn.execute(f'UPDATE "mirror_{name}" SET status = \\'unack\\' WHERE id = ?', (item,))


def copy(conn, name, item):
    conn.execute(f"UPDATE {name}_ack SET status = 'unack' WHERE id = ?", (item,))
"""

# A module whose only write names its table by a quoted name built from a value.
COPIES = """\
def quoted_copy(conn, name, item):
    conn.execute(f"UPDATE [{name}_ack] SET status = 'unack' WHERE id = ?", (item,))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pack.toml").write_text(PACK)
    (tmp_path / "queue.py").write_text(QUEUE)
    (tmp_path / "copies.py").write_text(COPIES)
    return tmp_path


@pytest.mark.parametrize("prefilter", [(), ("--no-prefilter",)])
def test_names_with_parts_not_known_here(project: Path, prefilter: tuple[str, ...]) -> None:
    code, report = run_json("lint", "--rules", "pack.toml", "--no-cache", *prefilter, cwd=project)
    found = {
        f["line"]: (f["code"], f["message"]) for f in report["findings"] if f["path"] == "queue.py"
    }
    copies = [(f["line"], f["code"]) for f in report["findings"] if f["path"] == "copies.py"]
    assert copies == [(2, "KA002")]
    # retry(): every `ack_queue_…` is an `ack_*` table; pop() is the claim path;
    # requeue() writes 'ready'; mirror_… is never an ack_ table.
    assert found[6][0] == "KA001"
    retry = next(f for f in report["findings"] if f["line"] == 6 and f["path"] == "queue.py")
    assert "writes ack_queue_….status" in retry["trace"][-1]["note"]
    # relocate(): `[{name}]` may be any table; copy(), quoted_copy(): `…_ack` may be
    # `ack_ack`.
    for line in (14, 22):
        assert found[line][0] == "KA002" and "table unknown" in found[line][1]
    assert sorted(found) == [6, 14, 22]
    assert code == 1


@pytest.mark.parametrize(
    ("template", "table", "verdict"),
    [
        ("ack_queue_\x00", "ack_*", tablenames.EVERY),
        ("\x00jobs", "*jobs", tablenames.EVERY),
        ("\x00jobs", "app_jobs", tablenames.SOME),
        ("\x00", "tasks", tablenames.SOME),
        ("tasks_\x00", "tasks", tablenames.NONE),
        ("mirror_\x00", "ack_*", tablenames.NONE),
        ("\x00_ack", "ack_*", tablenames.SOME),
        ("t\x00s", "t[a-z]sks", tablenames.SOME),
        ("tasks", "tasks", tablenames.EVERY),
        ("task", "tasks", tablenames.NONE),
    ],
)
def test_how_two_globs_meet(template: str, table: str, verdict: str) -> None:
    assert tablenames.judge(template, table) == verdict


def test_a_value_an_entry_point_passes_to_a_write_of_no_known_table_says_so(
    tmp_path: Path,
) -> None:
    """The status a caller passes on from its own parameter: the finding says the
    table is not known, as the write's own values do."""
    (tmp_path / "m.py").write_text(
        "def set_status(conn, table, status, tid):\n"
        '    conn.execute(f"UPDATE {table} SET status = ? WHERE id = ?", (status, tid))\n'
        "\n\n"
        "def entry(conn, table, tid, status):\n"
        "    set_status(conn, table, status, tid)\n"
    )
    code, report = run_json("lint", "--isolated", "--no-cache", "m.py", cwd=tmp_path)
    [finding] = report["findings"]
    assert (finding["line"], finding["code"]) == (6, "KA002")
    assert "table unknown" in finding["message"]
    assert "parameter `status` of `entry()`" in finding["message"]
    assert code == 1
