"""`# kanban-audit: ignore[KA001]` comments: parsing, matching, unused ones."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

from kanban_audit.codes import CODES
from kanban_audit.linter.findings import Finding, fingerprint

MARKER = b"kanban-audit:"
_COMMENT = re.compile(r"#\s*kanban-audit:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)


@dataclass
class Suppression:
    line: int
    col: int
    codes: tuple[str, ...]  # empty: every code
    text: str
    used: set[str]

    def covers(self, code: str) -> bool:
        return not self.codes or code in self.codes


def apply_suppressions(findings: list[Finding], texts: dict[str, str]) -> list[Finding]:
    """Drop suppressed findings; report suppressions that suppressed nothing (KA100).

    `texts` holds the source of every file that carries the marker.
    """
    table = {display: parse_suppressions(text) for display, text in texts.items()}
    kept: list[Finding] = []
    for finding in findings:
        lines = {finding.line, finding.stmt_line or finding.line, finding.end_line or finding.line}
        match = next(
            (s for s in table.get(finding.path, []) if s.line in lines and s.covers(finding.code)),
            None,
        )
        if match is None:
            kept.append(finding)
        else:
            match.used.add(finding.code)
    for display, suppressions in table.items():
        kept += [_unused(display, s) for s in suppressions if _unused_codes(s)]
    return kept


def _unused_codes(s: Suppression) -> list[str]:
    return [c for c in s.codes if c not in s.used] if s.codes else ([] if s.used else ["*"])


def _unused(display: str, s: Suppression) -> Finding:
    unused = _unused_codes(s)
    what = ", ".join(unused) if unused != ["*"] else "any finding"
    return Finding(
        code="KA100",
        path=display,
        line=s.line,
        col=s.col + 1,
        message=CODES["KA100"].message.format(what=what),
        symbol="",
        source_line=s.text,
        fingerprint=fingerprint("KA100", display, "", s.text, what, 0),
    )


def parse_suppressions(text: str) -> list[Suppression]:
    """Suppression comments in real comments (never inside strings)."""
    found: list[Suppression] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return found
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _COMMENT.search(token.string)
        if match is None:
            continue
        raw = match.group("codes")
        codes = tuple(c.strip().upper() for c in raw.split(",") if c.strip()) if raw else ()
        found.append(
            Suppression(token.start[0], token.start[1] + match.start(), codes, token.string, set())
        )
    return found
