"""The catalogue of codes: complete, printable, and honest (its examples do what they say)."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from support.cli import run_cli

from kanban_audit.codes import AUDIT, CODES, LINT_CODES, codes_table, explain
from kanban_audit.errors import UsageError

SCHEMA = Path(__file__).resolve().parents[1] / "examples" / "hermes-schema.sql"
AUDIT_CODES = [code for code, entry in CODES.items() if entry.engine == AUDIT]


def test_catalogue_matches_the_contract() -> None:
    assert {code: entry.name for code, entry in CODES.items()} == {
        "KA001": "running-outside-claim",
        "KA002": "unchecked-status-write",
        "KA100": "unused-suppression",
        "KD001": "running-without-open-run",
        "KD002": "running-without-claim",
        "KD003": "claim-expired",
        "KD004": "worker-dead",
        "KD005": "dangling-run",
        "KD006": "claimed-on-another-host",
        "KD007": "stray-worker",
    }
    assert list(LINT_CODES) == ["KA001", "KA002", "KA100"]


@pytest.mark.parametrize("code", list(CODES))
def test_code_is_fully_documented(code: str) -> None:
    entry = CODES[code]
    assert entry.code == code
    assert entry.summary and "\n" not in entry.summary
    assert entry.message and "\n" not in entry.message
    for heading in ("### Why it matters", "### How to fix"):
        assert heading in entry.explanation
    assert not entry.explanation.startswith((" ", "\n"))
    if entry.engine == AUDIT:
        for sql in (entry.bad, entry.good):
            assert sqlite3.complete_statement(sql)
    else:
        compile(entry.bad, f"{code}-bad", "exec")
        compile(entry.good, f"{code}-good", "exec")
    assert entry.bad != entry.good


@pytest.mark.parametrize("code", ["KA001", "KA002"])
def test_explanation_tells_how_to_suppress_that_code(code: str) -> None:
    assert f"# kanban-audit: ignore[{code}]" in CODES[code].explanation


def test_codes_table_has_aligned_columns() -> None:
    rows = codes_table().splitlines()
    assert [row.split()[0] for row in rows] == list(CODES)
    for row, entry in zip(rows, CODES.values(), strict=True):
        assert row.endswith(entry.summary)
    name_starts = {row.index(e.name) for row, e in zip(rows, CODES.values(), strict=True)}
    summary_starts = {row.index(e.summary) for row, e in zip(rows, CODES.values(), strict=True)}
    assert len(name_starts) == len(summary_starts) == 1


@pytest.mark.parametrize("code", ["KA001", "KD004"])
def test_explain_prints_title_text_and_both_examples(code: str) -> None:
    text = explain(code)
    entry = CODES[code]
    assert text.splitlines()[0] == f"{code} ({entry.name})"
    assert entry.summary in text
    assert entry.explanation in text
    bad, good = text.index("\nBad"), text.index("\nGood")
    assert bad < good
    assert "    " + entry.bad.splitlines()[0] in text[bad:good]
    assert "    " + entry.good.splitlines()[0] in text[good:]
    assert explain(code.lower()) == text


def test_explain_unknown_code_suggests_the_closest() -> None:
    with pytest.raises(UsageError) as info:
        explain("KD07")
    assert str(info.value) == "unknown code: KD07 (did you mean KD007?)"


# -- end to end: the installed command ----------------------------------------


def test_e2e_rules_command(tmp_path: Path) -> None:
    proc = run_cli("rules", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, codes_table() + "\n", "")


@pytest.mark.parametrize("code", list(CODES))
def test_e2e_explain_every_code(tmp_path: Path, code: str) -> None:
    proc = run_cli("explain", code, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, explain(code) + "\n", "")


def test_e2e_explain_unknown_code(tmp_path: Path) -> None:
    unknown = run_cli("explain", "KA999", cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr == "kanban-audit: error: unknown code: KA999 (did you mean KA001?)\n"


def test_e2e_explain_takes_every_name_rules_prints(tmp_path: Path) -> None:
    """`rules` prints a name beside each code: `explain NAME` shows that code."""
    for line in run_cli("rules", cwd=tmp_path).stdout.splitlines():
        code, name = line.split()[:2]
        proc = run_cli("explain", name.upper() if code == "KD004" else name, cwd=tmp_path)
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, explain(code) + "\n", "")
    typo = run_cli("explain", "worker-ded", cwd=tmp_path)
    assert typo.returncode == 2
    assert typo.stderr == "kanban-audit: error: unknown code: worker-ded (did you mean KD004?)\n"


@pytest.mark.parametrize("code", list(LINT_CODES))
def test_e2e_lint_examples_do_what_the_docs_say(tmp_path: Path, code: str) -> None:
    """The bad example gives exactly its own finding; the good one none."""
    entry = CODES[code]
    codes = {}
    for variant, source in (("bad", entry.bad), ("good", entry.good)):
        (tmp_path / variant).mkdir()
        (tmp_path / variant / "service.py").write_text(source + "\n")
        proc = run_cli("lint", "--format", "json", ".", cwd=tmp_path / variant)
        assert proc.returncode in (0, 1), proc.stderr
        codes[variant] = [f["code"] for f in json.loads(proc.stdout)["findings"]]
    assert codes == {"bad": [code], "good": []}


@pytest.fixture(scope="module")
def example_params() -> Iterator[dict[str, object]]:
    """What the audit examples' parameters stand for: a live and a dead worker here."""
    live = subprocess.Popen(["sleep", "300"])
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: its PID now names no process
    try:
        assert not psutil.pid_exists(gone.pid)
        yield {
            "now": int(time.time()),
            "host": socket.gethostname(),
            "worker_pid": live.pid,
            "dead_pid": gone.pid,
        }
    finally:
        live.kill()
        live.wait()


# An example's process, as its comment describes it: `-- ... NAME=value ...`.
EXAMPLE_ENV = re.compile(r"^--.*$", re.M)
ENV_ITEM = re.compile(r"(HERMES_KANBAN_\w+)=(<this board>|[^\s,]+)")


def _audited_codes(folder: Path, sql: str, params: dict[str, object]) -> list[str]:
    folder.mkdir()
    board = folder / "kanban.db"
    conn = sqlite3.connect(board, isolation_level=None)
    conn.executescript(SCHEMA.read_text())
    for statement in sql.split(";"):
        if statement.strip():
            names = {k: v for k, v in params.items() if f":{k}" in statement}
            conn.execute(statement, names)
    conn.close()
    comments = " ".join(EXAMPLE_ENV.findall(sql))
    env = {k: str(board) if v == "<this board>" else v for k, v in ENV_ITEM.findall(comments)}
    process = subprocess.Popen(["sleep", "300"], env={**os.environ, **env}) if env else None
    try:
        proc = run_cli("audit", board, "--format", "json", "--now", params["now"], cwd=folder)
    finally:
        if process is not None:
            process.kill()
            process.wait()
    assert proc.returncode in (0, 1), proc.stderr
    return sorted({c for f in json.loads(proc.stdout)["findings"] for c in f["codes"]})


@pytest.mark.parametrize("code", AUDIT_CODES)
def test_e2e_audit_examples_do_what_the_docs_say(
    tmp_path: Path, code: str, example_params: dict[str, object]
) -> None:
    """The bad rows give the code (and only it, but for KD006, which comes with a
    suspect code); the good rows give no finding at all."""
    entry = CODES[code]
    bad = _audited_codes(tmp_path / "bad", entry.bad, example_params)
    good = _audited_codes(tmp_path / "good", entry.good, example_params)
    assert code in bad
    assert bad == [code] or code == "KD006", bad
    assert good == []
