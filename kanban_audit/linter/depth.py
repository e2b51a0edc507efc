"""A cheap token scan that keeps pathological code away from LibCST's parser.

LibCST's native parser can overflow the C stack on inputs CPython itself
rejects (over 200 nested brackets) or on generated expressions thousands of
operators long. The summariser runs CPython's parser first, which refuses the
brackets and nests every operator chain it builds (binary operators,
attributes, calls, subscripts) until its own recursion limit stops it; what
it accepts flat but LibCST nests deeply is a run of adjacent strings. So the
scan runs only where there are enough quotes for one, and reports such code
as an error instead of parsing it.
"""

from __future__ import annotations

import io
import tokenize

MAX_BRACKETS = 200  # CPython's own limit on nested parentheses
MAX_CHAIN = 1500  # operators in one expression: deeper trees than any hand-written code
_CHAIN_OPERATORS = frozenset(
    [
        "+",
        "-",
        "*",
        "/",
        "//",
        "%",
        "@",
        "**",
        "|",
        "&",
        "^",
        "<<",
        ">>",
        "and",
        "or",
        "not",
        "in",
        "is",
        "if",
        "else",
        ".",
        "<",
        ">",
        "<=",
        ">=",
        "==",
        "!=",
    ]
)
_RESETS = frozenset([",", ";", ":", "=", "(", "[", "{"])


def nesting_problem(source: bytes, first_line: int = 1) -> str | None:
    """Why the source is too deep to parse safely, or None; lines count from
    `first_line`."""
    if source.count(b"'") + source.count(b'"') <= 2 * MAX_CHAIN:
        return None  # CPython's parser has judged the rest (see above)
    shift = first_line - 1
    depth = 0
    chain = [0]
    previous_string = False
    try:
        for token in tokenize.tokenize(io.BytesIO(source).readline):
            kind, value = token.type, token.string
            if kind == tokenize.OP and value in "([{":
                depth += 1
                chain.append(0)
                if depth > MAX_BRACKETS:
                    return (
                        f"more than {MAX_BRACKETS} nested brackets at line {token.start[0] + shift}"
                    )
            elif kind == tokenize.OP and value in ")]}":
                depth = max(0, depth - 1)
                if len(chain) > 1:
                    chain.pop()
            elif kind in (tokenize.NEWLINE, tokenize.NL) and depth == 0:
                chain = [0]
            elif value in _RESETS:
                chain[-1] = 0
            elif value in _CHAIN_OPERATORS or (kind == tokenize.STRING and previous_string):
                chain[-1] += 1
                if chain[-1] > MAX_CHAIN:
                    line = token.start[0] + shift
                    return f"an expression over {MAX_CHAIN} operators long at line {line}"
            previous_string = kind == tokenize.STRING
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None  # the parser reports the real syntax error
    return None
