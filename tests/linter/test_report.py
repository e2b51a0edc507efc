"""Output formats: exact text, the documented JSON, valid SARIF, GitHub annotations.

Unit tests render hand-built results; the end-to-end tests run the installed
`kanban-audit lint` on a small board service, as CI would.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from support.cli import run_cli

from kanban_audit import __version__
from kanban_audit.codes import LINT_CODES as RULES
from kanban_audit.errors import UsageError
from kanban_audit.linter.findings import FileError, Finding, LintResult, TraceStep
from kanban_audit.linter.report import FORMATS, render
from kanban_audit.linter.report.github import escape_data, escape_property

SCHEMA_PATH = Path(__file__).parents[2] / ".." / "shared" / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif_validator() -> Draft7Validator:
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA_PATH.resolve()} (shared/ beside the clone)")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator({**schema, "$ref": "#/definitions/Root"})


def assert_valid_sarif(validator: Draft7Validator, log: dict) -> None:
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def sample_result() -> LintResult:
    """Two findings out of order (one with a trace), a syntax error and an unreadable file."""
    bulk = Finding(
        code="KA002",
        path="service/api.py",
        line=30,
        col=9,
        message="status write with an unchecked value from 'payload'",
        fingerprint="bbbbbbbbbbbbbbbb",
    )
    patch = Finding(
        code="KA001",
        path="service/api.py",
        line=12,
        col=5,
        message="'running' can reach tasks.status outside the claim path",
        trace=(
            TraceStep("service/api.py", 12, 5, "call passes status in {'todo', 'running'}"),
            TraceStep("service/db.py", 40, 5, "UPDATE tasks SET status = ?"),
        ),
        fingerprint="aaaaaaaaaaaaaaaa",
    )
    return LintResult(
        findings=[bulk, patch],
        errors=[
            FileError("service/huge.py", "file too large to analyse (9 MiB)"),
            FileError("service/broken.py", "syntax error: '(' was never closed", 3, 7),
        ],
        files_seen=4,
        files_parsed=3,
    )


# -- text --------------------------------------------------------------------


def test_text_lists_findings_sorted_with_trace_errors_and_summary() -> None:
    assert render(sample_result(), "text") == textwrap.dedent(
        """\
        service/api.py:12:5: KA001 'running' can reach tasks.status outside the claim path
            service/api.py:12:5: call passes status in {'todo', 'running'}
            service/db.py:40:5: UPDATE tasks SET status = ?
        service/api.py:30:9: KA002 status write with an unchecked value from 'payload'
        service/broken.py:3:7: error: syntax error: '(' was never closed
        service/huge.py: error: file too large to analyse (9 MiB)
        Found 2 findings (KA001: 1, KA002: 1); 2 files could not be analysed.
        """
    )


@pytest.mark.parametrize(
    ("result", "summary"),
    [
        (LintResult(), "All checks passed."),
        (
            LintResult(errors=[FileError("a.py", "x"), FileError("b.py", "y")]),
            "No findings; 2 files could not be analysed.",
        ),
        (LintResult(findings=[Finding("KA001", "a.py", 1, 1, "m")]), "Found 1 finding (KA001: 1)."),
    ],
)
def test_text_summary_line(result: LintResult, summary: str) -> None:
    assert render(result, "text").splitlines()[-1] == summary


# -- json --------------------------------------------------------------------


def test_json_is_the_documented_shape_with_sorted_findings() -> None:
    result = sample_result()
    data = json.loads(render(result, "json"))
    assert list(data) == ["version", "findings", "errors", "summary"]
    assert [f["line"] for f in data["findings"]] == [12, 30]
    assert data["summary"] == result.summary()
    first = data["findings"][0]
    assert {"code", "path", "line", "col", "message", "trace", "fingerprint"} <= set(first)
    assert first["trace"][1] == {
        "path": "service/db.py",
        "line": 40,
        "col": 5,
        "note": "UPDATE tasks SET status = ?",
    }
    assert data["errors"] == [
        {
            "path": "service/broken.py",
            "message": "syntax error: '(' was never closed",
            "line": 3,
            "col": 7,
        },
        {
            "path": "service/huge.py",
            "message": "file too large to analyse (9 MiB)",
            "line": None,
            "col": None,
        },
    ]
    # Exactly to_dict() of the sorted result, indented: nothing added, nothing lost.
    result.findings.reverse()
    assert render(result, "json") == json.dumps(data, indent=2) + "\n"


# -- sarif -------------------------------------------------------------------


def test_sarif_is_valid_and_carries_rules_results_flows_and_errors(
    sarif_validator: Draft7Validator,
) -> None:
    log = json.loads(render(sample_result(), "sarif"))
    assert_valid_sarif(sarif_validator, log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]

    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("kanban-audit", __version__)
    assert driver["informationUri"].startswith("https://")
    assert [rule["id"] for rule in driver["rules"]] == list(RULES)
    for descriptor in driver["rules"]:
        rule = RULES[descriptor["id"]]
        assert descriptor["name"] == rule.name
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"] == rule.explanation
        assert rule.bad in descriptor["help"]["markdown"]
        assert rule.good in descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] == "error"

    patch, bulk = run["results"]
    assert driver["rules"][patch["ruleIndex"]]["id"] == patch["ruleId"] == "KA001"
    assert driver["rules"][bulk["ruleIndex"]]["id"] == bulk["ruleId"] == "KA002"
    assert patch["level"] == "error"
    assert patch["partialFingerprints"] == {"kanbanAudit/v1": "aaaaaaaaaaaaaaaa"}
    physical = patch["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "service/api.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 12, "startColumn": 5}

    (flow,) = patch["codeFlows"][0]["threadFlows"]
    hops = [
        (
            step["location"]["physicalLocation"]["artifactLocation"]["uri"],
            step["location"]["physicalLocation"]["region"]["startLine"],
            step["location"]["message"]["text"],
        )
        for step in flow["locations"]
    ]
    assert hops == [
        ("service/api.py", 12, "call passes status in {'todo', 'running'}"),
        ("service/db.py", 40, "UPDATE tasks SET status = ?"),
    ]
    assert "codeFlows" not in bulk  # no trace, no flow (an empty flow is invalid SARIF)

    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    syntax, huge = invocation["toolExecutionNotifications"]
    assert syntax["message"]["text"] == "syntax error: '(' was never closed"
    assert syntax["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "service/broken.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3, "startColumn": 7},
    }
    assert "region" not in huge["locations"][0]["physicalLocation"]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path.cwd().as_uri() + "/"


def test_sarif_clean_run_is_successful_with_empty_results(
    sarif_validator: Draft7Validator,
) -> None:
    log = json.loads(render(LintResult(), "sarif"))
    assert_valid_sarif(sarif_validator, log)
    (run,) = log["runs"]
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True


def test_sarif_uris_are_percent_encoded_and_absolute_paths_become_file_uris(
    sarif_validator: Draft7Validator, tmp_path: Path
) -> None:
    outside = tmp_path / "other.py"
    result = LintResult(
        findings=[
            Finding("KA001", "my dir/tâche#1.py", 3, 1, "m", fingerprint="f1"),
            Finding("KA002", str(outside), 2, 0, "m", fingerprint="f2"),
        ]
    )
    log = json.loads(render(result, "sarif"))
    assert_valid_sarif(sarif_validator, log)
    by_code = {
        r["ruleId"]: r["locations"][0]["physicalLocation"] for r in log["runs"][0]["results"]
    }
    relative, absolute = by_code["KA001"], by_code["KA002"]
    assert relative["artifactLocation"]["uri"] == "my%20dir/t%C3%A2che%231.py"
    assert absolute["artifactLocation"] == {"uri": outside.as_uri()}
    assert absolute["region"] == {"startLine": 2}  # column 0 means unknown: left out


# -- github ------------------------------------------------------------------


def test_github_annotations_one_per_finding_and_error() -> None:
    assert render(sample_result(), "github").splitlines() == [
        "::error file=service/api.py,line=12,col=5,title=KA001 running-outside-claim::"
        "'running' can reach tasks.status outside the claim path"
        "%0A  service/api.py:12:5: call passes status in {'todo', 'running'}"
        "%0A  service/db.py:40:5: UPDATE tasks SET status = ?",
        "::error file=service/api.py,line=30,col=9,title=KA002 unchecked-status-write::"
        "status write with an unchecked value from 'payload'",
        "::error file=service/broken.py,line=3,col=7::syntax error: '(' was never closed",
        "::error file=service/huge.py::file too large to analyse (9 MiB)",
    ]


def test_github_escapes_properties_and_message() -> None:
    result = LintResult(
        findings=[Finding("KA001", "odd,name:1.py", 7, 2, "100% sure\r\nreally")],
        errors=[FileError("a%b.py", "bad\nbyte")],
    )
    # Control characters from the tree are shown escaped first (terminal.printable).
    assert render(result, "github").splitlines() == [
        "::error file=odd%2Cname%3A1.py,line=7,col=2,title=KA001 running-outside-claim::"
        "100%25 sure\\r\\nreally",
        "::error file=a%25b.py::bad\\nbyte",
    ]
    assert escape_data("100% sure\r\nreally") == "100%25 sure%0D%0Areally"
    assert escape_property("a,b:c\n%") == "a%2Cb%3Ac%0A%25"


def test_github_clean_run_prints_nothing() -> None:
    assert render(LintResult(), "github") == ""


def test_formats_and_unknown_format() -> None:
    assert FORMATS == ("text", "json", "sarif", "github")
    with pytest.raises(UsageError, match="^unknown format: xml"):
        render(LintResult(), "xml")


# -- end to end: the installed command ----------------------------------------

SERVICE = {
    "board/__init__.py": "",
    "board/db.py": """\
        CLAIM_SQL = (
            "UPDATE tasks SET status = 'running', claim_lock = ?, claim_expires = ? "
            "WHERE id = ? AND status = 'ready'"
        )


        def claim_task(conn, task_id, lock, expires):
            return conn.execute(CLAIM_SQL, (lock, expires, task_id)).rowcount == 1


        def _set_status(conn, task_id, status):
            conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (status, task_id))


        def finish(conn, task_id):
            _set_status(conn, task_id, "done")
        """,
    "board/api.py": """\
        from board.db import _set_status


        def patch_task(conn, task_id, body):
            status = body["status"]
            if status in ("todo", "running", "triage"):
                _set_status(conn, task_id, status)  # expect: KA001


        def bulk_update(conn, payload):
            for task_id in payload["ids"]:
                _set_status(conn, task_id, payload["status"])  # expect: KA002
        """,
    # Mentions a status write, so the byte pre-filter cannot skip it unparsed.
    "board/broken.py": """\
        def oops(:
            conn.execute("UPDATE tasks SET status = 'done'")
        """,
}


def write_tree(root: Path, files: dict[str, str]) -> dict[tuple[str, int], str]:
    """Write the files; return the `# expect: CODE` marks as (path, line) -> code."""
    expected = {}
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(source)
        path.write_text(text, encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            if "# expect: " in line:
                expected[(name, number)] = line.split("# expect: ")[1].strip()
    return expected


def lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("lint", *args, cwd=cwd, stdin=None)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[tuple[str, int], str]]:
    root = tmp_path_factory.mktemp("service")
    return root, write_tree(root, SERVICE)


def test_e2e_json(service: tuple[Path, dict[tuple[str, int], str]]) -> None:
    root, expected = service
    proc = lint(root, "--format", "json", "board")
    assert proc.returncode == 2, proc.stderr  # a file could not be analysed
    data = json.loads(proc.stdout)
    found = {(f["path"], f["line"]): f["code"] for f in data["findings"]}
    assert found == expected
    keys = [(f["path"], f["line"], f["col"]) for f in data["findings"]]
    assert keys == sorted(keys)
    for finding in data["findings"]:
        assert finding["trace"], finding
        assert finding["trace"][-1]["path"] == "board/db.py"
        assert len(finding["fingerprint"]) >= 8
    assert data["errors"] == [
        {
            "path": "board/broken.py",
            "message": "syntax error: invalid syntax",
            "line": 1,
            "col": 10,
        }
    ]
    assert data["summary"]["by_code"] == {"KA001": 1, "KA002": 1}


def test_e2e_sarif(
    service: tuple[Path, dict[tuple[str, int], str]], sarif_validator: Draft7Validator
) -> None:
    root, expected = service
    proc = lint(root, "--format", "sarif", "board")
    assert proc.returncode == 2, proc.stderr
    log = json.loads(proc.stdout)
    assert_valid_sarif(sarif_validator, log)
    (run,) = log["runs"]
    found = {
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        ): r["ruleId"]
        for r in run["results"]
    }
    assert found == expected
    assert all(r["codeFlows"][0]["threadFlows"][0]["locations"] for r in run["results"])
    assert run["invocations"][0]["executionSuccessful"] is False


def test_e2e_github(service: tuple[Path, dict[tuple[str, int], str]]) -> None:
    root, expected = service
    proc = lint(root, "--format", "github", "board")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(line.startswith("::error file=") for line in lines), lines
    for (path, line), code in expected.items():
        assert any(f"file={path},line={line}," in x and f"title={code} " in x for x in lines)
    assert "::error file=board/broken.py,line=1,col=10::syntax error: invalid syntax" in proc.stdout


def test_e2e_text_and_exit_codes(service: tuple[Path, dict[tuple[str, int], str]]) -> None:
    root, expected = service
    proc = lint(root, "board")
    assert proc.returncode == 2, proc.stderr
    for (path, line), code in expected.items():
        assert any(
            x.startswith(f"{path}:{line}:") and f" {code} " in x for x in proc.stdout.splitlines()
        )
    assert "board/broken.py:1:10: error: syntax error: invalid syntax\n" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("Found 2 findings (KA001: 1, KA002: 1)")

    # Without the unreadable file: findings alone exit 1, --exit-zero forces 0.
    readable = ["board/api.py", "board/db.py"]
    assert lint(root, *readable).returncode == 1
    assert lint(root, "--exit-zero", *readable).returncode == 0
    clean = lint(root, "board/db.py")
    assert (clean.returncode, clean.stdout.strip()) == (0, "All checks passed.")
