"""What an SQL expression written to a column can be.

Each possible value is a literal, a placeholder, a hole in the text, an
unknown (with the reason), or a value the solver finishes because it needs
the parameters: a concatenation (`'run' || ?`, `printf('%s', ?)`) or a text
function applied to a placeholder (`lower(?)`). Functions that choose one of
their arguments (COALESCE, IFNULL, IIF, NULLIF, MAX, MIN, CASE results) pass
their values through; operators and functions whose result is a number or a
truth value write no text; a reference to the written column keeps the
row's value. Anything else (another column, a subquery's rows, a function
this reader does not know) is an unknown: never nothing.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

from kanban_audit.linter.sqltokens import (
    HOLE_CLOSE,
    HOLE_OPEN,
    Token,
    closing,
    depths,
    find_top,
    identifier,
    param_name,
    split,
    split_top,
    string_value,
    unwrap,
)

MAX_TEXTS = 64
# What stands in an SQL function's body for a value not known here (sqlfunctions.py).
NOT_KNOWN = "argument_not_known"
MAX_NESTING = 64  # parentheses and CASE in one expression: deeper is not read


@dataclass(frozen=True)
class SqlValue:
    """One possible value written."""

    # literal | param | arg | named | hole | unknown | concat | apply |
    # named_hole (`:{name}`: a hole names the placeholder) | narrowed (a value
    # a guard of an SQL function bounds: sqlguards.py)
    kind: str
    # The literal, the placeholder's position or name, the hole's number, the
    # unknown's reason, or the applied function's name.
    value: str | int
    uncertain: bool = False
    # concat: each part's possible values, in order; apply and narrowed: the argument's.
    parts: tuple[tuple[SqlValue, ...], ...] = ()
    # apply: the function's other arguments, all constants.
    args: tuple[str | int, ...] = ()
    # narrowed: the texts the value is kept to (None: any), and those it cannot be.
    allow: frozenset[str] | None = None
    deny: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Scope:
    """What names mean in a written value: a reference to the written column of the
    written table keeps the row's value; `columns` are the table's, when known."""

    table: str = ""
    column: str = ""
    columns: frozenset[str] | None = None

    def without_column(self) -> Scope:
        """Inside a computation the written column's old value is just another value."""
        return replace(self, column="")


def unknown(reason: str) -> SqlValue:
    return SqlValue("unknown", reason)


def _without_cast(tokens: list[Token]) -> list[Token]:
    """`x::type` (PostgreSQL's cast, `'doing'::job_status`, `%s::varchar[]`) is x's
    value: a cast to a type names no other value."""
    while True:
        at = next(
            (i for i in range(len(tokens) - 1, 0, -1) if tokens[i].text == "::"),
            None,
        )
        if at is None or not _type_name(tokens[at + 1 :]):
            return tokens
        if [d for _, _, d in depths(tokens[:at])][-1]:
            return tokens  # inside parentheses: not the whole value's cast
        tokens = unwrap(tokens[:at])


def _nested_past(tokens: list[Token], limit: int) -> bool:
    """Whether parentheses and CASE ... END nest deeper than `limit`: each level is
    read by a walk of the whole expression, 5,000 of them would take minutes."""
    depth = 0
    for tok in tokens:
        if tok.text == "(" or (tok.kind == "word" and tok.upper == "CASE"):
            depth += 1
            if depth > limit:
                return True
        elif tok.text == ")" or (tok.kind == "word" and tok.upper == "END"):
            depth = max(0, depth - 1)
    return False


_NOT_IN_TYPES = {"END", "ELSE", "THEN", "WHEN", "AND", "OR", "IS", "NOT", "IN", "AS"}


def _type_name(tokens: list[Token]) -> bool:
    """`job_status`, `varchar[]`, `numeric(10, 2)`, `timestamp with time zone`."""
    words = [t for t in tokens if t.kind == "word"]
    return (
        bool(words)
        and tokens[0].kind == "word"
        and len(words) <= 4
        and not any(t.upper in _NOT_IN_TYPES for t in words)
        and all(t.kind in ("word", "number") or t.text in "()[]," for t in tokens)
    )


def value_atoms(tokens: list[Token], scope: Scope) -> list[SqlValue]:
    """The values an SQL expression can produce, one reader per form."""
    if _nested_past(tokens, MAX_NESTING):
        return [unknown(f"SQL expression nested over {MAX_NESTING} deep")]
    tokens = _without_cast(_without_collate(unwrap(tokens)))
    if len(tokens) == 2 and tokens[0].text in (":", "@", "$") and tokens[1].kind == "hole":
        return [SqlValue("named_hole", tokens[1].index)]
    if tokens and tokens[0].text == "+":
        return value_atoms(tokens[1:], scope)  # unary plus: the value itself
    if tokens and tokens[0].upper in ("SELECT", "WITH", "VALUES"):
        return subquery(tokens)
    if not tokens or _yields_number(tokens):
        return []
    parts = _concat_parts(tokens)
    if len(parts) > 1:
        inner = scope.without_column()
        return concat([value_atoms(part, inner) for part in parts])
    if len(tokens) == 1:
        return _atom(tokens[0], scope)
    first = tokens[0].upper
    if first == "CASE" and tokens[-1].upper == "END":
        return _case_results(tokens[1:-1], scope)
    cast_at = next((i for i, tok, depth in depths(tokens) if not depth and tok.text == "::"), 0)
    if cast_at:  # PostgreSQL's `value::type`, as CAST(value AS type)
        return _cast([*tokens[:cast_at], Token("word", "AS"), *tokens[cast_at + 1 :]], scope)
    reference = _qualified(tokens)
    if reference:
        return _column(reference[0], reference[1], scope)
    called = tokens[0].kind in ("word", "ident") and tokens[1].text == "("
    if called and closing(tokens, 1) == len(tokens) - 1:
        name = (identifier(tokens[0]) or "").upper()
        args = [arg for arg in split(tokens[2:-1], ",") if arg]
        return _function(name, args, scope)
    return [unknown(f"SQL expression `{_text(tokens)}`")]


# -- operands ---------------------------------------------------------------------

CONSTANT_WORDS = {"NULL", "TRUE", "FALSE", "CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"}


def _atom(tok: Token, scope: Scope) -> list[SqlValue]:
    if tok.kind == "string":
        return _string(string_value(tok))
    if tok.kind == "param":
        return [SqlValue("param", tok.index, tok.uncertain)]
    if tok.kind == "arg":
        return [SqlValue("arg", tok.index)]
    if tok.kind == "named":
        return [SqlValue("named", param_name(tok))]
    if tok.kind == "hole":
        return [SqlValue("hole", tok.index)]
    if tok.kind == "number":
        return [SqlValue("literal", number_text(tok.text))]
    if tok.upper in CONSTANT_WORDS:
        return []
    if tok.text == NOT_KNOWN:
        return [unknown("a value in an SQL function's body not known here")]
    if tok.kind == "word":
        return _column(None, tok.text.lower(), scope)
    if tok.kind == "ident":
        return _quoted(tok, scope)
    return [unknown(f"SQL expression `{tok.text}`")]


def _quoted(tok: Token, scope: Scope) -> list[SqlValue]:
    """A quoted name; SQLite reads a double-quoted one that names no column as a string."""
    name = identifier(tok) or ""
    values = _column(None, name, scope)
    if not tok.text.startswith('"') or name == scope.column:
        return values
    text = SqlValue("literal", tok.text[1:-1].replace('""', '"'))
    if scope.columns is None:
        return [text, *values]
    return values if name in scope.columns else [text]


def _column(qualifier: str | None, name: str, scope: Scope) -> list[SqlValue]:
    """The written column of the written row keeps its value; any other column is unknown."""
    if name == scope.column and qualifier in (None, scope.table, "excluded"):
        return []
    return [unknown(f"the value of column `{name}`")]


def _qualified(tokens: list[Token]) -> tuple[str | None, str] | None:
    """(qualifier, column) of `table.column` or `schema.table.column`."""
    names = [identifier(t) for t in tokens[::2]]
    if len(tokens) % 2 == 0 or not all(names) or any(t.text != "." for t in tokens[1::2]):
        return None
    return names[-2], names[-1]  # type: ignore[return-value]


def _case_results(tokens: list[Token], scope: Scope) -> list[SqlValue]:
    """THEN and ELSE results of a CASE body; the WHEN conditions are reads."""
    results: list[SqlValue] = []
    nested = 0
    collecting = False
    current: list[Token] = []
    for _, tok, depth in depths(tokens):
        word = tok.upper
        top = depth == 0 and nested == 0
        if word == "CASE":
            nested += 1
        elif word == "END" and nested:
            nested -= 1
        elif top and word in ("WHEN", "THEN", "ELSE"):
            if collecting:
                results += value_atoms(current, scope)
            collecting = word in ("THEN", "ELSE")
            current = []
            continue
        if collecting:
            current.append(tok)
    if collecting:
        results += value_atoms(current, scope)
    return results


_SELECT_END = {"FROM", "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT"}
_COMPOUND = {"UNION", "INTERSECT", "EXCEPT"}


def subquery(tokens: list[Token]) -> list[SqlValue]:
    """A scalar subquery: its first result column, read in its own tables."""
    start = find_top(tokens, {"SELECT"}) + 1
    if start > len(tokens):
        return [unknown("the rows of a subquery")]
    if start < len(tokens) and tokens[start].upper in ("DISTINCT", "ALL"):
        start += 1
    end = find_top(tokens, _SELECT_END | _COMPOUND, start)
    items = split_top(tokens[start:end])
    values = select_item(items[0]) if items else []
    if find_top(tokens, _COMPOUND, end) < len(tokens):
        values.append(unknown("the rows of a compound SELECT"))
    return values


def select_item(item: list[Token]) -> list[SqlValue]:
    """The values one result column of a SELECT gives (its alias dropped)."""
    if any(t.text == "*" for t in item[-1:]):
        return [unknown("the columns of SELECT *")]
    alias = find_top(item, {"AS"})
    return value_atoms(item[:alias], Scope())


# -- operators --------------------------------------------------------------------

_NUMBER_OPS = {"-", "*", "/", "%", "&", "|", "~", "<<", ">>", "<", ">", "<=", ">=", "=", "=="}
_NUMBER_OPS |= {"!=", "<>"}
_TRUTH_WORDS = {"AND", "OR", "NOT", "IS", "IN", "LIKE", "GLOB", "MATCH", "REGEXP", "BETWEEN"}
_TRUTH_WORDS |= {"ISNULL", "NOTNULL", "ESCAPE"}


def _top_level(tokens: list[Token]) -> list[tuple[int, Token]]:
    """The tokens outside parentheses and CASE ... END, with their positions."""
    found = []
    nested = 0
    for i, tok, depth in depths(tokens):
        if tok.upper == "CASE":
            nested += 1
        elif tok.upper == "END" and nested:
            nested -= 1
        elif depth == 0 and not nested and tok.text not in ("(", ")"):
            found.append((i, tok))
    return found


def number_text(text: str) -> str:
    """A number as a text column stores it (`01` is '1', `1e3` is '1000.0'): a board
    whose states are numbers is judged by these texts."""
    try:
        return str(int(text))
    except ValueError:
        return str(float(text))


def _yields_number(tokens: list[Token]) -> bool:
    """Arithmetic, comparison or logic at the top: the result is a number (or NULL)."""
    for i, tok in _top_level(tokens):
        if tok.kind == "op" and (tok.text in _NUMBER_OPS or (tok.text == "+" and i > 0)):
            return True
        if tok.upper in _TRUTH_WORDS:
            return True
    return False


def _concat_parts(tokens: list[Token]) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    positions = {i for i, tok in _top_level(tokens) if tok.text == "||"}
    for i, tok in enumerate(tokens):
        if i in positions:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def _without_collate(tokens: list[Token]) -> list[Token]:
    """`x COLLATE NOCASE` is x: a collation changes comparisons, not the value."""
    at = {i for i, tok in _top_level(tokens) if tok.upper == "COLLATE"}
    return [tok for i, tok in enumerate(tokens) if i not in at and i - 1 not in at]


def concat(parts: list[list[SqlValue]]) -> list[SqlValue]:
    """`a || b`: literals joined here; anything else joined by the solver."""
    if not all(parts):
        return [unknown("text joined with a number or NULL")]
    if all(v.kind == "literal" for part in parts for v in part):
        combos = list(itertools.islice(itertools.product(*parts), MAX_TEXTS + 1))
        if len(combos) <= MAX_TEXTS:
            return [SqlValue("literal", "".join(str(v.value) for v in combo)) for combo in combos]
        return [unknown("too many texts joined")]
    return [SqlValue("concat", "", parts=tuple(tuple(part) for part in parts))]


# -- functions --------------------------------------------------------------------

# Functions that return one of their arguments: which ones.
_CHOOSERS = {
    "COALESCE": slice(None),
    "IFNULL": slice(None),
    "MAX": slice(None),
    "MIN": slice(None),
    "LIKELY": slice(None),
    "UNLIKELY": slice(None),
    "IIF": slice(1, None),
    "NULLIF": slice(0, 1),
    "LIKELIHOOD": slice(0, 1),
}
_NUMERIC = {"LENGTH", "ABS", "ROUND", "INSTR", "UNICODE", "RANDOM", "COUNT", "SUM", "TOTAL"}
_NUMERIC |= {"AVG", "EXISTS", "JULIANDAY", "UNIXEPOCH", "SIGN", "CHANGES", "TOTAL_CHANGES"}
_NUMERIC |= {"LAST_INSERT_ROWID", "OCTET_LENGTH"}
_TEXT = {"LOWER", "UPPER", "TRIM", "LTRIM", "RTRIM", "SUBSTR", "SUBSTRING", "REPLACE"}
_NUMERIC_TYPES = ("INT", "REAL", "FLOA", "DOUB", "NUMERIC", "DECIMAL", "BOOL")


def _function(name: str, args: list[list[Token]], scope: Scope) -> list[SqlValue]:
    if name in _CHOOSERS:
        return [v for arg in args[_CHOOSERS[name]] for v in value_atoms(arg, scope)]
    if name in _NUMERIC:
        return []
    if name == "CAST" and len(args) == 1:
        return _cast(args[0], scope)
    if name in ("PRINTF", "FORMAT") and args:
        return _printf(args, scope.without_column())
    if name == "CHAR":
        return _char(args)
    if name in _TEXT and args:
        return _text_function(name, args, scope.without_column())
    return [unknown(f"the result of SQL function {name.lower()}()")]


def _cast(tokens: list[Token], scope: Scope) -> list[SqlValue]:
    at = find_top(tokens, {"AS"})
    kind = " ".join(t.upper for t in tokens[at + 1 :])
    if any(word in kind for word in _NUMERIC_TYPES):
        return []
    return value_atoms(tokens[:at], scope)


def _char(args: list[list[Token]]) -> list[SqlValue]:
    """char(114, 117, ...): the text of those code points, when they are numbers."""
    codes = [arg[0].text for arg in args if len(arg) == 1 and arg[0].kind == "number"]
    if len(codes) != len(args) or not all(code.isdigit() for code in codes):
        return [unknown("char() of values not known here")]
    try:
        return [SqlValue("literal", "".join(chr(int(code)) for code in codes))]
    except (ValueError, OverflowError):
        return []


# A value interpolated inside a quoted SQL literal ('{state}'): the hole's number.
_QUOTED_HOLE = re.compile(HOLE_OPEN + r"(\d+)" + HOLE_CLOSE)


def _string(text: str) -> list[SqlValue]:
    """A quoted literal: its text, or, with values interpolated inside the quotes
    (`'{state}'`, `'%s'` filled in Python), the text those values make."""
    pieces = _QUOTED_HOLE.split(text)
    if len(pieces) == 1:
        return [SqlValue("literal", text)]
    if pieces == ["", pieces[1], ""]:
        return [SqlValue("hole", int(pieces[1]))]
    parts = tuple(
        (SqlValue("hole", int(piece)) if n % 2 else SqlValue("literal", piece),)
        for n, piece in enumerate(pieces)
    )
    return [SqlValue("concat", "", parts=parts)]


def _constant(tokens: list[Token]) -> str | int | None:
    """A string or integer literal argument, else None."""
    tokens = unwrap(tokens)
    negative = len(tokens) == 2 and tokens[0].text == "-"
    tok = tokens[-1] if len(tokens) == 1 or negative else None
    if tok is not None and tok.kind == "number" and tok.text.isdigit():
        return -int(tok.text) if negative else int(tok.text)
    if tok is not None and tok.kind == "string" and not negative and HOLE_OPEN not in tok.text:
        return string_value(tok)
    return None


def _text_function(name: str, args: list[list[Token]], scope: Scope) -> list[SqlValue]:
    """lower(x), trim(x, chars), substr(x, a, b), replace(x, a, b)... of x's values."""
    extra = [_constant(arg) for arg in args[1:]]
    if any(value is None for value in extra):
        return [unknown(f"{name.lower()}() with arguments not known here")]
    constants = tuple(value for value in extra if value is not None)
    out: list[SqlValue] = []
    deferred: list[SqlValue] = []
    for value in value_atoms(args[0], scope):
        if value.kind == "literal":
            text = apply_text(name, str(value.value), constants)
            out.append(SqlValue("literal", text) if text is not None else unknown(name))
        elif value.kind == "unknown":
            out.append(unknown(f"{name.lower()}() of {value.value}"))
        else:
            deferred.append(value)
    if deferred:
        out.append(SqlValue("apply", name, parts=(tuple(deferred),), args=constants))
    return out


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def apply_text(name: str, text: str, args: tuple[str | int, ...]) -> str | None:
    """What SQLite's text function `name` makes of `text`; None if the arguments do
    not fit it."""
    if name in ("LOWER", "UPPER") and not args:
        return text.translate(_ASCII_LOWER if name == "LOWER" else _ASCII_UPPER)
    if name in ("TRIM", "LTRIM", "RTRIM") and len(args) <= 1:
        chars = str(args[0]) if args else " "
        strip = {"TRIM": str.strip, "LTRIM": str.lstrip, "RTRIM": str.rstrip}[name]
        return strip(text, chars)
    if name in ("SUBSTR", "SUBSTRING") and 1 <= len(args) <= 2:
        if not all(isinstance(arg, int) for arg in args):
            return None
        return _substr(text, *args)  # type: ignore[arg-type]
    if name == "REPLACE" and len(args) == 2:
        old, new = str(args[0]), str(args[1])
        return text.replace(old, new) if old else text
    return None


def _substr(text: str, start: int, length: int | None = None) -> str:
    """substr() as SQLite computes it (func.c): 1-based, negative from the end,
    a negative length counting back."""
    size = len(text)
    backwards = length is not None and length < 0
    count = abs(length) if length is not None else size + abs(start) + 1
    if start < 0:
        start += size
        if start < 0:
            count = max(0, count + start)
            start = 0
    elif start > 0:
        start -= 1
    elif count > 0:
        count -= 1
    if backwards:
        start -= count
        if start < 0:
            count += start
            start = 0
    return text[start : start + max(0, count)]


_PRINTF = re.compile(r"%(?P<flags>[-+ 0#,!]*)(?P<width>\d+|\*)?(?:\.(?P<prec>\d+|\*))?(?P<conv>.)")


def _printf(args: list[list[Token]], scope: Scope) -> list[SqlValue]:
    """printf(format, ...): the format's text with each %s (%q, %w, %z) its argument."""
    form = _constant(args[0])
    if not isinstance(form, str):
        return [unknown("printf() with a format not known here")]
    parts: list[list[SqlValue]] = []
    rest = iter(args[1:])
    at = 0
    for match in _PRINTF.finditer(form):
        parts.append([SqlValue("literal", form[at : match.start()])])
        at = match.end()
        conv = match.group("conv")
        if conv == "%":
            parts.append([SqlValue("literal", "%")])
            continue
        if "*" in match.group():
            return [unknown("printf() with a computed width")]
        arg = next(rest, None)
        plain = conv in "sqwz" and not (match.group("width") or match.group("prec"))
        if arg is None:
            parts.append([SqlValue("literal", "")])
        elif plain:
            parts.append(value_atoms(arg, scope) or [unknown("a number or NULL")])
        else:
            parts.append([unknown(f"printf() %{conv} of a value")])
    parts.append([SqlValue("literal", form[at:])])
    nonempty = [part for part in parts if part != [SqlValue("literal", "")]]
    if len(nonempty) == 1:
        return nonempty[0]
    return concat(nonempty or [[SqlValue("literal", "")]])


def _text(tokens: list[Token]) -> str:
    text = " ".join(tok.text for tok in tokens if tok.kind != "hole")
    return text if len(text) <= 40 else text[:37] + "..."
