"""One flow, one finding: a call whose values reach a write by several routes (the
driver called directly, and a pass-through pool that calls it again) is reported
once, with the most direct route's trace and each other route's write after it."""

from __future__ import annotations

from .harness import FIXTURES, linted

FIXTURE = FIXTURES / "lint" / "single" / "pass_through_pools.py"


def line_of(text: str) -> int:
    """The fixture's line that holds `text` (the only one)."""
    lines = [n for n, line in enumerate(FIXTURE.read_text().splitlines(), 1) if text in line]
    assert len(lines) == 1, text
    return lines[0]


def test_a_flow_through_a_pass_through_pool_is_one_finding_with_every_write() -> None:
    result = linted(FIXTURE.parent, (FIXTURE,))
    force = line_of('await set_status(pool, task_id, "running")')
    found = [f for f in result.findings if f.line == force]
    assert [f.code for f in found] == ["KA001"]
    assert [(step.line, step.note) for step in found[0].trace] == [
        (force, "force() calls set_status()"),
        (line_of('await pool.execute("UPDATE'), "set_status() writes tasks.status (UPDATE)"),
        (
            line_of("return await self._conn.execute("),
            "also execute() writes tasks.status (UPDATE)",
        ),
    ]


def test_each_place_keeps_its_own_finding() -> None:
    """Merging is per place and code: flows at two calls stay two findings."""
    result = linted(FIXTURE.parent, (FIXTURE,))
    assert sorted((f.line, f.code) for f in result.findings) == [
        (line_of('await set_status(pool, task_id, "running")'), "KA001"),
        (line_of('"status": "running"}'), "KA001"),
        (line_of("when.strftime(fmt)"), "KA002"),
        (line_of('write_args(conn, "running", task_id)'), "KA001"),
    ]
