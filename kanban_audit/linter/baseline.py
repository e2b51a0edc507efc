"""Baselines: accept the findings a project has today, gate only new ones.

A baseline is keyed by finding fingerprint, which ignores line numbers, so
it survives unrelated edits that move code around. It is a multiset: two
identical findings recorded once each absorb two, not more.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from kanban_audit.atomic import write_atomic
from kanban_audit.errors import UsageError
from kanban_audit.linter.findings import Finding
from kanban_audit.userfile import read_user_text

BASELINE_VERSION = 1


def write_baseline(path: Path | str, findings: Iterable[Finding]) -> None:
    """Record findings in a stable, diff-friendly order (sorted, one key order)."""
    entries = sorted(
        (
            {
                "fingerprint": finding.fingerprint,
                "code": finding.code,
                "path": finding.path,
                "message": finding.message,
            }
            for finding in findings
        ),
        key=lambda entry: (entry["path"], entry["code"], entry["fingerprint"], entry["message"]),
    )
    text = (
        json.dumps({"version": BASELINE_VERSION, "findings": entries}, indent=2, allow_nan=False)
        + "\n"
    )
    try:
        write_atomic(Path(path), text)
    except OSError as exc:
        raise UsageError(f"cannot write baseline {path}: {exc.strerror or exc}") from None


def load_baseline(path: Path | str) -> Counter[str]:
    """Read a baseline as fingerprint -> count; any problem is one clear line."""
    text = read_user_text(Path(path), "baseline file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"baseline {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise UsageError(
            f"baseline {path} is not a kanban-audit baseline (version {BASELINE_VERSION})"
        )
    entries = data.get("findings")
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str) for entry in entries
    ):
        raise UsageError(
            f"baseline {path}: 'findings' must be a list of objects with a fingerprint"
        )
    return Counter(entry["fingerprint"] for entry in entries)


def filter_new(findings: Iterable[Finding], baseline: Counter[str]) -> list[Finding]:
    """The findings the baseline does not absorb; each entry absorbs one finding."""
    remaining = baseline.copy()
    new = []
    for finding in findings:
        if remaining[finding.fingerprint] > 0:
            remaining[finding.fingerprint] -= 1
        else:
            new.append(finding)
    return new
