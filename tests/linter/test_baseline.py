"""Baselines: stable files, multiset matching, clear errors, and fingerprints
that survive unrelated edits (checked through the installed command)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from support.cli import run_cli

from kanban_audit.errors import UsageError
from kanban_audit.linter.baseline import filter_new, load_baseline, write_baseline
from kanban_audit.linter.findings import Finding


def finding(fingerprint: str, path: str = "api.py", line: int = 1) -> Finding:
    return Finding("KA001", path, line, 1, f"finding {fingerprint}", fingerprint=fingerprint)


def test_write_is_sorted_stable_and_round_trips(tmp_path: Path) -> None:
    findings = [finding("f2", "b.py"), finding("f1", "a.py"), finding("f1", "a.py", line=9)]
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    write_baseline(first, findings)
    write_baseline(second, list(reversed(findings)))
    assert first.read_text() == second.read_text()

    data = json.loads(first.read_text())
    assert data["version"] == 1
    assert data["findings"][0] == {
        "fingerprint": "f1",
        "code": "KA001",
        "path": "a.py",
        "message": "finding f1",
    }
    assert [entry["path"] for entry in data["findings"]] == ["a.py", "a.py", "b.py"]
    assert load_baseline(first) == Counter({"f1": 2, "f2": 1})


def test_filter_new_is_a_multiset_match() -> None:
    findings = [finding("f1"), finding("f1", line=5), finding("f2"), finding("f3")]
    new = filter_new(findings, Counter({"f1": 1, "f2": 3}))
    assert [(f.fingerprint, f.line) for f in new] == [("f1", 5), ("f3", 1)]
    assert filter_new(findings, Counter()) == findings


def test_filter_new_leaves_the_baseline_untouched() -> None:
    baseline = Counter({"f1": 1})
    filter_new([finding("f1")], baseline)
    assert baseline == Counter({"f1": 1})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "baseline file not found"),
        ("{not json", "is not valid JSON"),
        (b"\xff\xfe\x00", "is not UTF-8 text"),
        ("[]", "is not a kanban-audit baseline"),
        ('{"version": 99, "findings": []}', "is not a kanban-audit baseline"),
        ('{"version": 1, "findings": {}}', "'findings' must be a list"),
        ('{"version": 1, "findings": [{"code": "KA001"}]}', "'findings' must be a list"),
    ],
)
def test_load_rejects_bad_files_with_one_line(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "baseline.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=message) as info:
        load_baseline(path)
    assert "\n" not in str(info.value)


def test_load_and_write_report_os_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="baseline file is a directory"):
        load_baseline(tmp_path)
    with pytest.raises(UsageError, match="cannot write baseline"):
        write_baseline(tmp_path / "missing" / "baseline.json", [finding("f1")])


# -- end to end: the installed command ----------------------------------------

DB = """\
    def claim_task(conn, task_id):
        sql = "UPDATE tasks SET status = 'running' WHERE id = ? AND status = 'ready'"
        conn.execute(sql, (task_id,))


    def _set_status(conn, task_id, status):
        conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (status, task_id))
    """

API = """\
    from db import _set_status


    def start(conn, task_id):
        _set_status(conn, task_id, "running")
    """

NEW_BUG = """\


    def restart(conn, task_id):
        _set_status(conn, task_id, "running")
    """


def lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("lint", "--format", "json", *args, ".", cwd=cwd, stdin=None)


def findings_of(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "db.py").write_text(textwrap.dedent(DB))
    (tmp_path / "api.py").write_text(textwrap.dedent(API))
    return tmp_path


def test_e2e_fingerprints_survive_moved_lines(project: Path) -> None:
    before = findings_of(lint(project))
    assert [f["code"] for f in before] == ["KA001"]
    api = project / "api.py"
    api.write_text(
        '"""Task API."""\n\nimport logging\n\nLOG = logging.getLogger(__name__)\n' + api.read_text()
    )
    db = project / "db.py"
    db.write_text("# The board's SQL.\n\n" + db.read_text())
    after = findings_of(lint(project))
    assert [f["line"] for f in after] == [before[0]["line"] + 5]
    assert [f["fingerprint"] for f in after] == [before[0]["fingerprint"]]


def test_e2e_baseline_reports_only_new_findings(project: Path) -> None:
    baseline = project / "kanban-audit-baseline.json"
    written = lint(project, "--write-baseline", str(baseline))
    assert written.returncode in (0, 1), written.stderr
    recorded = json.loads(baseline.read_text())
    current = findings_of(lint(project))
    assert [e["fingerprint"] for e in recorded["findings"]] == [f["fingerprint"] for f in current]

    old = lint(project, "--baseline", str(baseline))
    assert (old.returncode, findings_of(old)) == (0, []), old.stdout

    # Lines move and a second, new bug appears: only the new one is reported.
    api = project / "api.py"
    api.write_text("import os\n\n" + api.read_text() + textwrap.dedent(NEW_BUG))
    new = lint(project, "--baseline", str(baseline))
    assert new.returncode == 1
    (reported,) = findings_of(new)
    assert reported["code"] == "KA001"
    assert (
        api.read_text()
        .splitlines()[reported["line"] - 1]
        .strip()
        .startswith('_set_status(conn, task_id, "running")')
    )
    assert reported["line"] > len(textwrap.dedent(API).splitlines()) + 2


def test_e2e_bad_baseline_is_a_usage_error(project: Path) -> None:
    proc = lint(project, "--baseline", str(project / "nope.json"))
    assert proc.returncode == 2
    assert "baseline file not found" in proc.stderr
    assert "Traceback" not in proc.stderr
