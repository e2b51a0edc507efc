"""`# kanban-audit: ignore[KA001]` comments: parsing, matching, unused ones."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

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
