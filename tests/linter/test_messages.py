"""A KA002 message names the unknown value the way the code spells it."""

from __future__ import annotations

from pathlib import Path

import pytest

import kanban_audit

WRITE = 'conn.execute("UPDATE tasks SET status = ? WHERE id = ?", ({value}, tid))'


@pytest.mark.parametrize(
    ("params", "value", "reason"),
    [
        ("request", 'request.json["s"]', "item of `request.json`"),
        ("request", 'request.json.get("s")', "item of `request.json`"),
        ("", "load_status()", "return value of `load_status(...)`"),
        ("", "load().status", "attribute `.status` of `load(...)`"),
        ("holder", "holder.next", "attribute `.next` of parameter `holder`"),
    ],
)
def test_the_reason_spells_the_value_as_the_code_does(
    tmp_path: Path, params: str, value: str, reason: str
) -> None:
    arguments = ", ".join(["conn", "tid", *filter(None, [params])])
    source = f"def handler({arguments}):\n    {WRITE.format(value=value)}\n"
    (tmp_path / "api.py").write_text(source)
    result = kanban_audit.lint([tmp_path], cwd=tmp_path, isolated=True, cache=False)
    [finding] = result.findings
    assert finding.code == "KA002"
    assert f"unchecked value ({reason}) can reach" in finding.message
