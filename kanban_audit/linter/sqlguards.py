"""Guards in PL/pgSQL bodies: what a function refuses before it writes.

`IF end_status NOT IN ('succeeded', 'failed') THEN RAISE ...; END IF;` in the
main block of a function's body, before `UPDATE jobs SET status = end_status`,
leaves the parameter one of the listed values for every statement after it, as
`if s not in ALLOWED: raise` does in Python. Understood: an `IF` (with `ELSIF`
branches) in the main block whose leading branches each stop the function (a
`RAISE` at level EXCEPTION, the default level, or a plain `RETURN`), tested on a
parameter with `NOT IN`, `IN`, `=`, `<>`/`!=` against literals, or an `OR` of
those. Anything else narrows nothing: a `RAISE NOTICE` (or another level below
EXCEPTION), which only reports; `ASSERT`, which a setting can turn off; a guard
inside a loop or another block; a body with an exception handler (it may catch
the refusal); a parameter the body assigns. A refusal after the write also undoes
it (PostgreSQL rolls the statement back), but only what follows a guard is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from kanban_audit.linter.sql import WriteEffect
from kanban_audit.linter.sqltokens import (
    Token,
    closing,
    find_top,
    identifier,
    split,
    string_value,
    unwrap,
)
from kanban_audit.linter.sqlvalues import Scope, SqlValue, number_text, value_atoms

# RAISE levels that report and carry on (EXCEPTION, the default, stops).
_REPORTING = {"DEBUG", "LOG", "INFO", "NOTICE", "WARNING"}
# What a statement follows in a body: an end, a branch, a loop or block opening, a label.
_STATEMENT_AFTER = {";", "THEN", "ELSE", "LOOP", "BEGIN", "DECLARE", ">>"}
# The caller's own values, which a guard bounds: placeholders, literals, Python values.
_BOUNDABLE = {"param", "arg", "named", "literal", "hole"}


# What a condition's being false leaves of a parameter: (position, allow, deny).
Fact = tuple[int, frozenset[str] | None, frozenset[str]]


@dataclass(frozen=True)
class Guard:
    """A parameter as the body leaves it from token `end` on."""

    param: int  # its position
    allow: frozenset[str] | None
    deny: frozenset[str]
    end: int


@dataclass(frozen=True)
class Bound:
    """A caller's value as a guard leaves it (a placeholder or a literal)."""

    value: SqlValue
    allow: frozenset[str] | None
    deny: frozenset[str]


def guards(tokens: list[Token], params: tuple[str, ...], changed: set[int]) -> list[Guard]:
    """The guards of a body's main block, in order, on parameters it does not assign."""
    if not any(tok.upper == "RAISE" or tok.upper == "RETURN" for tok in tokens):
        return []
    if any(
        tok.upper == "EXCEPTION" and _word(tokens, i - 1) != "RAISE" for i, tok in enumerate(tokens)
    ):
        return []  # a handler may catch what the body raises
    named = {name: n for n, name in enumerate(params) if name}
    found: list[Guard] = []
    depth = 0
    i = 0
    while i < len(tokens):
        if depth == 1 and _opens_if(tokens, i):
            end = _matching_end(tokens, i)
            if end is None or _word(tokens, end + 1) != "IF":
                return found
            found += [
                Guard(param, allow, deny, end + 2)
                for param, allow, deny in _if_facts(tokens[i:end], named)
                if param not in changed
            ]
            i = end + 2  # past END IF
            continue
        depth += _depth_change(tokens, i)
        if depth < 0:
            return []
        i += 1
    return found


def bound(argument: list[Token], guard: Guard) -> Bound | None:
    """The guard on the caller's argument, when the argument is one plain value."""
    values = value_atoms(argument, Scope())
    if len(values) != 1 or values[0].kind not in _BOUNDABLE or values[0].uncertain:
        return None
    return Bound(values[0], guard.allow, guard.deny)


def bounded(effects: list[WriteEffect], bounds: tuple[Bound, ...]) -> list[WriteEffect]:
    """The writes with each guarded value as its guard leaves it."""
    if not bounds:
        return effects
    return [
        replace(effect, values=tuple(_narrowed(value, bounds) for value in effect.values))
        for effect in effects
    ]


def _narrowed(value: SqlValue, bounds: tuple[Bound, ...]) -> SqlValue:
    for guard in bounds:
        if value == guard.value:
            value = SqlValue("narrowed", "", parts=((value,),), allow=guard.allow, deny=guard.deny)
    return value


def _word(tokens: list[Token], i: int) -> str:
    return tokens[i].upper if 0 <= i < len(tokens) else ""


def _starts_statement(tokens: list[Token], i: int) -> bool:
    return (
        i == 0 or tokens[i - 1].text in _STATEMENT_AFTER or tokens[i - 1].upper in _STATEMENT_AFTER
    )


def _opens_if(tokens: list[Token], i: int) -> bool:
    return tokens[i].upper == "IF" and _starts_statement(tokens, i)


def _depth_change(tokens: list[Token], i: int) -> int:
    """+1 where a block opens (BEGIN, an IF statement, LOOP, CASE), -1 at each END."""
    word = tokens[i].upper
    if word == "END":
        return -1
    if word == "BEGIN" or _opens_if(tokens, i):
        return 1
    return int(word in ("LOOP", "CASE") and _word(tokens, i - 1) != "END")


def _matching_end(tokens: list[Token], i: int) -> int | None:
    """The END that closes the block opening at i."""
    depth = 0
    for j in range(i, len(tokens)):
        depth += _depth_change(tokens, j)
        if depth == 0:
            return j if tokens[j].upper == "END" else None
    return None


def assigned(tokens: list[Token], params: tuple[str, ...]) -> set[int]:
    """The positions of the parameters a body may change: `p := ...`, `p = ...` as a
    statement (or in GET DIAGNOSTICS), the targets of `INTO a, p` and of a loop's
    `FOR p`; after that the parameter is no longer the caller's value."""
    named = {name: n for n, name in enumerate(params) if name}
    changed: set[int] = set()
    targets = False  # in a list of names that INTO, FOR or FOREACH assigns
    for i, tok in enumerate(tokens):
        before = tokens[i - 1] if i else None
        position = _param(tok, before, named)
        if before is not None and before.upper in ("INTO", "STRICT", "FOR", "FOREACH"):
            targets = True
        elif before is None or before.text != ",":
            targets = targets and tok.text == ","
        if position is None:
            continue
        after = [t.text for t in tokens[i + 1 : i + 3]]
        listed = before is not None and (before.upper == "DIAGNOSTICS" or before.text == ",")
        assigns = after[:1] == ["="] and (_starts_statement(tokens, i) or listed)
        if targets or after == [":", "="] or assigns:
            changed.add(position)
    return changed


def _param(tok: Token, before: Token | None, named: dict[str, int]) -> int | None:
    """The position of the parameter a token names (`p`, `$n`), if it names one."""
    if tok.kind == "arg":
        return tok.index
    if tok.kind in ("word", "ident") and (before is None or before.text != "."):
        return named.get(identifier(tok) or "")
    return None


def _branches(tokens: list[Token]) -> Iterator[tuple[list[Token], list[Token]]]:
    """(condition, statements) of each IF/ELSIF branch in order; ELSE has no condition
    and ends them."""
    depth = 0
    parts: list[tuple[str, list[Token]]] = []
    for i, tok in enumerate(tokens):
        depth += _depth_change(tokens, i)
        if depth == 1 and tok.upper in ("IF", "THEN", "ELSIF", "ELSEIF", "ELSE"):
            parts.append((tok.upper, []))
        elif parts:
            parts[-1][1].append(tok)
    for n in range(0, len(parts) - 1, 2):
        (test, condition), (then, body) = parts[n], parts[n + 1]
        if test not in ("IF", "ELSIF", "ELSEIF") or then != "THEN":
            return
        yield condition, body


def _if_facts(tokens: list[Token], named: dict[str, int]) -> list[Fact]:
    """What falling through an IF statement proves: each leading branch that stops the
    function was not taken, so its condition is false."""
    facts = []
    for condition, body in _branches(tokens):
        if not _stops(body):
            break
        facts += _false(condition, named)
    return facts


def _stops(body: list[Token]) -> bool:
    """Whether a branch's own statements end in a refusal: a RAISE at level EXCEPTION
    (the default) or a RETURN (RETURN NEXT and RETURN QUERY carry on)."""
    depth = 0
    for i, tok in enumerate(body):
        if depth == 0 and _starts_statement(body, i):
            after = _word(body, i + 1)
            if tok.upper == "RAISE" and after not in _REPORTING:
                return True
            if tok.upper == "RETURN" and after not in ("NEXT", "QUERY"):
                return True
        depth += _depth_change(body, i)
    return False


def _false(condition: list[Token], named: dict[str, int]) -> list[Fact]:
    """What a condition's being false says of parameters: of `a OR b`, each side false."""
    facts = []
    for side in _disjuncts(unwrap(condition)):
        fact = _comparison(unwrap(side), named)
        if fact is not None:
            facts.append(fact)
    return facts


def _disjuncts(tokens: list[Token]) -> list[list[Token]]:
    """The sides of the depth-0 ORs of a condition."""
    parts: list[list[Token]] = []
    start = 0
    while start <= len(tokens):
        at = find_top(tokens, {"OR"}, start)
        parts.append(tokens[start:at])
        start = at + 1
    return parts


def _comparison(tokens: list[Token], named: dict[str, int]) -> Fact | None:
    """`p NOT IN (...)`, `p IN (...)`, `p = 'x'`, `'x' = p`, `p <> 'x'` made false: the
    parameter's position and what it is left as (allow, deny)."""
    words = [tok.upper for tok in tokens]
    if "IN" in words:
        at = words.index("IN")
        negated = at > 0 and words[at - 1] == "NOT"
        position = _operand(tokens[: at - 1 if negated else at], named)
        grouped = at + 1 < len(tokens) and tokens[at + 1].text == "("
        if position is None or not grouped or closing(tokens, at + 1) != len(tokens) - 1:
            return None
        listed = _literals(tokens[at + 2 : -1])
        if listed is None:
            return None
        return (position, listed, frozenset()) if negated else (position, None, listed)
    at = next((i for i, tok in enumerate(tokens) if tok.text in ("=", "<>", "!=")), None)
    if at is None:
        return None
    left, right = tokens[:at], tokens[at + 1 :]
    position = _operand(left, named)
    literal = _literals(right)
    if position is None:
        position, literal = _operand(right, named), _literals(left)
    if position is None or literal is None or len(literal) != 1:
        return None
    return (position, None, literal) if tokens[at].text == "=" else (position, literal, frozenset())


def _operand(tokens: list[Token], named: dict[str, int]) -> int | None:
    """The parameter an operand is (`p`, `$1`, `p::text`)."""
    tokens = unwrap(tokens)
    if not tokens or (len(tokens) > 1 and tokens[1].text != "::"):
        return None
    return _param(tokens[0], None, named)


def _literals(tokens: list[Token]) -> frozenset[str] | None:
    """The texts of a list of literals (`'a', 'b'`, each maybe cast); None if not one."""
    texts = set()
    for item in split(tokens, ","):
        item = unwrap(item)
        if not item or (len(item) > 1 and item[1].text != "::"):
            return None
        if item[0].kind == "string":
            texts.add(string_value(item[0]))
        elif item[0].kind == "number":
            texts.add(number_text(item[0].text))
        else:
            return None
    return frozenset(texts)
