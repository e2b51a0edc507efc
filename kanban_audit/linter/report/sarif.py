"""SARIF 2.1.0 for code-scanning services (GitHub code scanning and others).

Paths in findings are relative to the current directory, so every artifact
URI is relative to `%SRCROOT%`, which is declared as that directory.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

from kanban_audit import __version__
from kanban_audit.codes import LINT_CODES, Code
from kanban_audit.linter.findings import FileError, Finding, LintResult, TraceStep

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/kanban-audit/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "kanbanAudit/v1"


def _artifact(path: str) -> dict[str, str]:
    """A file as a URI: relative to %SRCROOT% unless the path is absolute."""
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(pure.as_posix(), safe="/"), "uriBaseId": SRCROOT}


def _location(path: str, line: int, col: int, message: str = "") -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(path)}
    if line > 0:
        physical["region"] = {"startLine": line}
        if col > 0:
            physical["region"]["startColumn"] = col
    location: dict[str, Any] = {"physicalLocation": physical}
    if message:
        location["message"] = {"text": message}
    return location


def _rule_descriptor(rule: Code) -> dict[str, Any]:
    first_paragraph = " ".join(rule.explanation.split("\n\n", 1)[0].split())
    markdown = (
        f"{rule.explanation}\n\n"
        f"#### Bad\n\n```python\n{rule.bad}\n```\n\n"
        f"#### Good\n\n```python\n{rule.good}\n```"
    )
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": first_paragraph},
        "help": {"text": rule.explanation, "markdown": markdown},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["correctness", "kanban"]},
    }


def _thread_flow_location(step: TraceStep) -> dict[str, Any]:
    return {"location": _location(step.path, step.line, step.col, step.note)}


def _result(finding: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": finding.code}
    if finding.code in rule_index:
        result["ruleIndex"] = rule_index[finding.code]
    result.update(
        {
            "level": "error",
            "message": {"text": finding.message},
            "locations": [_location(finding.path, finding.line, finding.col)],
            "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        }
    )
    if finding.trace:
        result["codeFlows"] = [
            {"threadFlows": [{"locations": [_thread_flow_location(s) for s in finding.trace]}]}
        ]
    return result


def _notification(error: FileError) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": error.message},
        "locations": [_location(error.path, error.line, error.col)],
    }


def sarif_log(result: LintResult) -> dict[str, Any]:
    """One run: the rule catalogue as the driver, findings as results, errors as notifications."""
    rule_index = {code: index for index, code in enumerate(LINT_CODES)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kanban-audit",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule_descriptor(rule) for rule in LINT_CODES.values()],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri() + "/"}},
                "invocations": [
                    {
                        "executionSuccessful": not result.errors,
                        "toolExecutionNotifications": [_notification(e) for e in result.errors],
                    }
                ],
                "results": [_result(finding, rule_index) for finding in result.findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render_sarif(result: LintResult) -> str:
    return json.dumps(sarif_log(result), indent=2, allow_nan=False) + "\n"
