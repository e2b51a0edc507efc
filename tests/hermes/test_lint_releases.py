"""The lint on every real Hermes release: the bulk-update bug where it shipped, nothing
where it was fixed. The trees are the released wheels (support/hermes.py)."""

from __future__ import annotations

import json

import pytest
from support import hermes
from support.cli import run_cli

BUG = ("KA001", "plugins/kanban/dashboard/plugin_api.py", 872, 30)


@pytest.mark.parametrize("version", list(hermes.RELEASES))
def test_the_bulk_update_bug_is_found_where_it_shipped(version: str) -> None:
    root = hermes.unpacked(version)
    done = run_cli("lint", "--format", "json", "--no-cache", ".", cwd=root)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    found = [(f["code"], f["path"], f["line"], f["col"]) for f in report["findings"]]
    assert report["errors"] == []
    assert found == ([BUG] if version in hermes.BULK_BUG else [])
    # The pre-filter keeps the run to the few files that can matter.
    assert report["summary"]["files_parsed"] <= 20 < report["summary"]["files"]


def test_the_finding_traces_to_the_direct_status_write() -> None:
    root = hermes.unpacked("0.14.0")
    done = run_cli("lint", "--no-cache", ".", cwd=root)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "plugins/kanban/dashboard/plugin_api.py:872:30: KA001 status 'running' can reach"
        " tasks.status via _set_status_direct() outside the claim path",
        "    plugins/kanban/dashboard/plugin_api.py:872:30: bulk_update() calls"
        " _set_status_direct()",
        "    plugins/kanban/dashboard/plugin_api.py:722:15: _set_status_direct() writes"
        " tasks.status (UPDATE)",
        "Found 1 finding (KA001: 1).",
    ]
