"""SQL text as tokens, and the ways the statement and expression readers walk them.

Text that could not be resolved statically arrives as numbered holes
(HOLE_OPEN n HOLE_CLOSE) and becomes one token each. Placeholders are
numbered the way SQLite numbers them (`?`, `?NNN`, `%s`); `$n` is the n-th
argument of an asyncpg-style driver.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

HOLE_OPEN = "\x00"
HOLE_CLOSE = "\x01"


@dataclass(frozen=True)
class Token:
    kind: str  # word, ident, string, number, param, arg, named, hole, op
    text: str
    # param: 0-based position; arg: 0-based argument; hole: hole number.
    index: int = -1
    # A positional placeholder that follows a hole: its position is not certain.
    uncertain: bool = False
    # Written right after the previous token, with no space or comment between:
    # `app_{name}` is one table name made of a word and a hole.
    glued: bool = False

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*'?|\$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?(?:\$(?P=tag)\$|\Z))
  | (?P<ident>"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?)
  | (?P<hole>\x00(?P<hole_n>\d+)\x01)
  | (?P<qparam>\?(?P<qnum>\d*))
  | (?P<pyparam>%\((?P<pyname>\w+)\)s|%s)
  | (?P<arg>\$(?P<argnum>\d+))
  | (?P<cast>::)
  | (?P<named>[:@$][A-Za-z_]\w*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<op>::|\|\||->>|->|<<|>>|<=|>=|<>|!=|==|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _at_table_name(tokens: list[Token]) -> bool:
    """Whether the next token names the table of an UPDATE or an INSERT (`UPDATE`,
    `UPDATE OR REPLACE`, `INTO` before it)."""
    last = [tok.upper for tok in tokens[-3:]]
    return bool(last) and (last[-1] in ("UPDATE", "INTO") or last[:2] == ["UPDATE", "OR"])


def tokenize(text: str) -> list[Token]:
    """Split SQL text, numbering positional placeholders the way SQLite does."""
    tokens: list[Token] = []
    highest = 0
    after_hole = False
    spaced = True
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        raw = match.group()
        if kind in ("space", "comment"):
            spaced = True
            continue
        glued, spaced = bool(tokens) and not spaced, False
        if kind == "hole":
            # A table named by a value holds a name, never placeholders.
            after_hole = after_hole or not _at_table_name(tokens)
            tokens.append(Token("hole", raw, int(match.group("hole_n"))))
        elif kind == "qparam" or (kind == "pyparam" and raw == "%s"):
            number = match.group("qnum") if kind == "qparam" else ""
            highest = int(number) if number else highest + 1
            tokens.append(Token("param", raw, highest - 1, after_hole))
        elif kind == "arg":
            tokens.append(Token("arg", raw, int(match.group("argnum")) - 1))
        elif kind == "pyparam":
            tokens.append(Token("named", raw, -1))
        elif kind == "named":
            tokens.append(Token("named", raw))
        elif kind == "ident":
            tokens.append(Token("ident", raw))
        else:
            tokens.append(Token(kind or "op", raw))
        if glued:
            tokens[-1] = replace(tokens[-1], glued=True)
    return tokens


def param_name(token: Token) -> str:
    """The key a named placeholder looks up in a parameter mapping."""
    if token.text.startswith("%("):
        return token.text[2:-2]
    return token.text[1:]


def string_value(token: Token) -> str:
    """The text a string token stands for: `'it''s'`, or PostgreSQL's `$$it's$$`
    and `$tag$...$tag$` (dollar quoting, which function bodies use)."""
    text = token.text
    if text.startswith("$"):  # an unterminated one runs to the end, as in PostgreSQL
        tag = text[: text.index("$", 1) + 1]
        body = text[len(tag) :]
        return body[: -len(tag)] if len(body) >= len(tag) and body.endswith(tag) else body
    return text[1:-1].replace("''", "'")


def identifier(token: Token) -> str | None:
    """The lower-cased name of an identifier token, unquoted; None if not one."""
    if token.kind == "word":
        return token.text.lower()
    if token.kind == "ident":
        inner = token.text[1:-1] if len(token.text) > 1 else ""
        return inner.replace('""', '"').lower()
    return None


def depths(tokens: list[Token], start: int = 0) -> Iterator[tuple[int, Token, int]]:
    """Each token from `start` with its parenthesis depth (after the token itself)."""
    depth = 0
    for i in range(start, len(tokens)):
        tok = tokens[i]
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth = max(0, depth - 1)
        yield i, tok, depth


def split(tokens: list[Token], separator: str, holes: bool = False) -> list[list[Token]]:
    """Split at depth-0 separators (and depth-0 holes with `holes`); empty parts are kept.

    A hole just before `=` names a column (`{key} = ?`): it begins the next part;
    a hole just after `:`, `@` or `$` names a placeholder: it stays in its part.
    """
    parts: list[list[Token]] = [[]]
    for i, tok, depth in depths(tokens):
        if depth == 0 and holes and tok.kind == "hole":
            if i and tokens[i - 1].text in (":", "@", "$"):
                parts[-1].append(tok)
            else:
                names_column = i + 1 < len(tokens) and tokens[i + 1].text == "="
                parts.append([tok] if names_column else [])
        elif depth == 0 and tok.text == separator:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def split_top(tokens: list[Token]) -> list[list[Token]]:
    """Split at depth-0 commas; holes at depth 0 are separators too."""
    return [part for part in split(tokens, ",", holes=True) if part]


def find_top(tokens: list[Token], words: set[str], start: int = 0) -> int:
    """Index of the first depth-0 keyword in `words` at or after start, else len."""
    for i, tok, depth in depths(tokens, start):
        if depth == 0 and tok.upper in words:
            return i
    return len(tokens)


def unwrap(tokens: list[Token]) -> list[Token]:
    """The tokens without the parentheses around all of them."""
    while len(tokens) >= 2 and tokens[0].text == "(" and closing(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return tokens


def closing(tokens: list[Token], open_at: int) -> int:
    """The index of the parenthesis that closes the one at `open_at` (else the last)."""
    for i, tok, depth in depths(tokens, open_at):
        if tok.text == ")" and depth == 0:
            return i
    return len(tokens) - 1
