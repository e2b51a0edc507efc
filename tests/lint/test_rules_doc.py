"""The rule catalogue: complete, printable, and honest (its examples do what they say)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kanban_audit.errors import UsageError
from kanban_audit.lint.rules import RULES, explain, rules_table

KANBAN_AUDIT = Path(sys.executable).parent / "kanban-audit"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KANBAN_AUDIT), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_catalogue_matches_the_lint_contract() -> None:
    assert {code: rule.name for code, rule in RULES.items()} == {
        "KA001": "running-outside-claim",
        "KA002": "unchecked-status-write",
        "KA100": "unused-suppression",
    }


@pytest.mark.parametrize("code", list(RULES))
def test_rule_is_fully_documented(code: str) -> None:
    rule = RULES[code]
    assert rule.code == code
    assert rule.summary and "\n" not in rule.summary
    for heading in ("### Why it matters", "### How to fix"):
        assert heading in rule.explanation
    assert not rule.explanation.startswith((" ", "\n"))
    compile(rule.bad, f"{code}-bad", "exec")
    compile(rule.good, f"{code}-good", "exec")
    assert rule.bad != rule.good


@pytest.mark.parametrize("code", ["KA001", "KA002"])
def test_explanation_tells_how_to_suppress_that_code(code: str) -> None:
    assert f"# kanban-audit: ignore[{code}]" in RULES[code].explanation


def test_rules_table_has_aligned_columns() -> None:
    rows = rules_table().splitlines()
    assert [row.split()[0] for row in rows] == list(RULES)
    for row, rule in zip(rows, RULES.values(), strict=True):
        assert row.endswith(rule.summary)
    name_starts = {row.index(rule.name) for row, rule in zip(rows, RULES.values(), strict=True)}
    summary_starts = {
        row.index(rule.summary) for row, rule in zip(rows, RULES.values(), strict=True)
    }
    assert len(name_starts) == len(summary_starts) == 1


def test_explain_prints_title_text_and_both_examples() -> None:
    text = explain("KA001")
    rule = RULES["KA001"]
    assert text.splitlines()[0] == "KA001 (running-outside-claim)"
    assert rule.summary in text
    assert rule.explanation in text
    bad, good = text.index("\nBad:\n"), text.index("\nGood:\n")
    assert bad < good
    assert "    " + rule.bad.splitlines()[0] in text[bad:good]
    assert "    " + rule.good.splitlines()[0] in text[good:]
    assert explain("ka001") == text


def test_explain_unknown_code() -> None:
    with pytest.raises(UsageError) as info:
        explain("KA999")
    assert str(info.value) == "unknown rule code: KA999"


# -- end to end: the installed command ----------------------------------------


def test_e2e_rules_command(tmp_path: Path) -> None:
    proc = run(tmp_path, "rules")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, rules_table() + "\n", "")


def test_e2e_explain_command(tmp_path: Path) -> None:
    proc = run(tmp_path, "explain", "KA001")
    assert (proc.returncode, proc.stdout) == (0, explain("KA001") + "\n")
    unknown = run(tmp_path, "explain", "KA999")
    assert unknown.returncode == 2
    assert "unknown rule code: KA999" in unknown.stderr
    assert "Traceback" not in unknown.stderr


@pytest.mark.parametrize("code", list(RULES))
def test_e2e_examples_do_what_the_docs_say(tmp_path: Path, code: str) -> None:
    """The bad example gives exactly its own finding; the good one none."""
    rule = RULES[code]
    codes = {}
    for variant, source in (("bad", rule.bad), ("good", rule.good)):
        (tmp_path / variant).mkdir()
        (tmp_path / variant / "service.py").write_text(source + "\n")
        proc = run(tmp_path / variant, "lint", "--format", "json", ".")
        assert proc.returncode in (0, 1), proc.stderr
        codes[variant] = [f["code"] for f in json.loads(proc.stdout)["findings"]]
    assert codes == {"bad": [code], "good": []}
