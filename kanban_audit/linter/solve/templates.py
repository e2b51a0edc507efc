"""The texts a string expression can have: SQL built from pieces.

Literals, adjacent strings, `+`, f-strings, `%` and `.format` substitution,
`", ".join(fragments)`, constants, attributes, library-composed SQL
(composed.py) and what helpers return all become
templates: tuples of literal text and holes for the parts that stay unknown.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from kanban_audit.linter.solve import composed, files, reflowed
from kanban_audit.linter.solve.atoms import Atom, Frame, Hole, Template, binding
from kanban_audit.linter.solve.context import BUDGET
from kanban_audit.linter.sql import ANY_COLUMN, HOLE_CLOSE, HOLE_OPEN
from kanban_audit.linter.sqlfiles import NamedText
from kanban_audit.linter.values import (
    Attr,
    BinOp,
    Call,
    Concat,
    DictLit,
    Expr,
    Index,
    Lambda,
    Lit,
    Narrowed,
    OneOf,
    Param,
    Ref,
    Seq,
    Star,
    Unknown,
)

if TYPE_CHECKING:
    from kanban_audit.linter.solve.evaluate import Evaluator

MAX_TEMPLATES = 64
MAX_CHOICES = 16  # texts a joined list may have from fragments of several texts each
# Library calls that wrap SQL text as it is: SQLAlchemy's `text("UPDATE ... :s")`.
SQL_TEXT_WRAPPERS = frozenset(
    {"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"}
)
# Calls that give their last argument back as it is (`cast(LiteralString, text)`).
SAME_VALUE = frozenset({"typing.cast", "typing_extensions.cast"})
MAX_TEXT = 20_000
# The text that stands for texts cut unread: a write that may be one of them is not
# known (KA002 outside the claim path), never passed.
CUT_REASON = f"{BUDGET}: more than {MAX_TEMPLATES} texts"
CUT: Template = (Hole(Unknown(CUT_REASON), None),)
TOO_LONG: Template = (Hole(Unknown("text too long"), None),)
# A text too long to read that may write the board (its parts name the table or the
# status column, and a write): not known, like texts cut unread, never passed.
TOO_LONG_WRITE: Template = (
    Hole(Unknown(f"{BUDGET}: a text longer than {MAX_TEXT} characters"), None),
)
MAX_COMBOS = 4_096  # texts a product of choices makes before the rest are cut
# What a part of a text that cannot change the status written never holds: quotes,
# placeholders, statement ends, calls and SQL's own concatenation.
INERT_EXCLUDES = frozenset("'\"`[;?%:$@(|{\\")
PERCENT = re.compile(r"%%|%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]")
WRITE_VERB = re.compile(r"(?<!for )\b(?:update|insert|replace|set)\b")
BRACE = re.compile(r"(?<!\{)\{([^{}!:]*)(?:!([rsa]))?(?::[^{}]*)?\}(?!\})")


def _bound_parent(expr: Expr, frame: Frame | None) -> Frame | None:
    """The frame a bound parameter's structures are in: its call's caller's."""
    if isinstance(expr, Param):
        bound = binding(frame, expr.func)
        if bound is not None:
            return bound.parent
    return frame


def strings(ev: Evaluator, expr: Expr, frame: Frame | None) -> list[Template]:
    """Possible texts of `expr` (called through the evaluator's memo)."""
    if isinstance(expr, Lit):
        return [(str(expr.value),)] if expr.value is not None else [(Hole(expr, frame),)]
    if isinstance(expr, Concat):
        return product(ev, [ev.strings(p, frame) for p in expr.parts])
    if isinstance(expr, BinOp) and expr.op == "+":
        return product(ev, [ev.strings(expr.left, frame), ev.strings(expr.right, frame)])
    if isinstance(expr, BinOp) and expr.op == "%":
        lefts = ev.strings(expr.left, frame)
        return _capped(ev, [x for t in lefts for x in _percent(ev, t, expr.right, frame)])
    wrapped = _wrapped_text(expr)
    if wrapped is None and isinstance(expr, Call):
        wrapped = reflowed.same_words(expr)
    if wrapped is not None:
        return ev.strings(wrapped, frame)
    if isinstance(expr, Call) and isinstance(expr.func, Ref):
        default = ev.field_default(expr)
        if default is not None:
            return ev.strings(default, frame)
        expr = _on_constant(ev, expr)
    if isinstance(expr, Call) and isinstance(expr.func, Attr):
        if expr.func.name == "join" and expr.args:
            return _join(ev, expr, frame)
        if expr.func.name == "format":
            bases = ev.strings(expr.func.base, frame)
            return _capped(ev, [x for t in bases for x in _format(ev, t, expr, frame)])
    if isinstance(expr, OneOf):
        # Each option's texts, whatever it is built from: a text extended on two
        # branches (`sql += ...` in the `if` and in the `else`) is either text.
        texts = [t for option in expr.options for t in ev.strings(option, frame)]
        return _capped(ev, _distinct_sql(list({id(t): t for t in texts}.values())))
    read = files.file_texts(ev, expr, frame)
    if read is not None:
        return _capped(ev, read)
    looked_up = _looked_up(ev, expr, frame)
    if looked_up is not None:
        return _capped(ev, looked_up)
    if _is_strip(expr):
        assert isinstance(expr, Call) and isinstance(expr.func, Attr)
        bases = ev.strings(expr.func.base, frame)
        return _capped(ev, [_stripped(t, expr.func.name) for t in bases])
    if isinstance(expr, Call):
        texts = composed.composed_texts(ev, expr, frame)
        if texts is not None:
            return _capped(ev, texts)
    named = composed.named_texts(ev, expr, frame)
    if named:
        return _capped(ev, named)
    if isinstance(expr, Narrowed) and expr.allow is not None:
        allowed = _allowed(ev, expr, frame)
        if allowed:
            return _capped(ev, [(value,) for value in allowed])
    if isinstance(expr, (Ref, Param, OneOf, Narrowed, Index)):
        structs = ev.structures(expr, frame)
        if structs != [expr]:
            inner = _bound_parent(expr, frame)
            texts = [t for s in structs for t in ev.strings(s, inner)]
            if isinstance(expr, Narrowed):  # a part not known here keeps its guard
                texts = [(Hole(expr, frame),) if _is_hole(t) else t for t in texts]
            return _capped(ev, texts)
    if isinstance(expr, Call):
        texts = []
        for target in ev.call_targets(expr.func, frame):
            if isinstance(target, Lambda):  # a factory's lambda: `lambda data: f"..."`
                texts += ev.strings(target.body, frame)
            elif isinstance(target, tuple) and binding(frame, target[0]) is None:
                inner = ev.helper_frame(target[0], expr, target[1], frame)
                for ret in ev.index.functions[target[0]].returns:
                    texts += ev.strings(ret, inner)
        if texts:
            return _capped(ev, texts)
    return [(Hole(expr, frame),)]


def _distinct_sql(texts: list[Template]) -> list[Template]:
    """The texts without those the SQL reader reads as another of them: `<schema>.name`
    beside `name` (`f"{schema}.{name}" if schema else name` names one table or column:
    the reader drops the qualifier), and a line comment beside a blank text
    (`f"-- {comment}\n" if comment else ""`). Reading both would double the texts of
    every statement built from them, once per part."""
    if len(texts) < 2:
        return texts
    dropped: set[int] = set()
    for t in texts:
        bare = _behind_qualifier(t)
        if bare is not None and any(_same(other, bare) for other in texts):
            dropped.add(id(t))
    comments = [t for t in texts if _comment_line(t)]
    if comments and any(len(t) == 1 and isinstance(t[0], str) and not t[0].strip() for t in texts):
        dropped |= {id(t) for t in comments}
    return [t for t in texts if id(t) not in dropped] if dropped else texts


def _same(a: Template, b: Template) -> bool:
    """Two texts made of the same parts (read once: the same objects)."""
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b, strict=True))


def _behind_qualifier(template: Template) -> Template | None:
    """`<hole>.name...` as `name...`; None when the text starts otherwise."""
    if len(template) < 2 or not isinstance(template[0], Hole):
        return None
    after = template[1]
    if not isinstance(after, str) or not after.startswith(".") or after == ".":
        return template[2:] if after == "." else None
    return (after[1:], *template[2:])


_COMMENT_LINE = re.compile(r"\s*--[^\n]*\n\s*")


def _plain(template: Template) -> str | None:
    """A text known in full, else None."""
    return "".join(template) if all(isinstance(p, str) for p in template) else None  # type: ignore[arg-type]


def _comment_line(template: Template) -> bool:
    if not (template and isinstance(template[0], str) and template[0].lstrip().startswith("--")):
        return False
    text = _plain(template)
    return text is not None and _COMMENT_LINE.fullmatch(text) is not None


def _capped(
    ev: Evaluator, texts: list[Template], read: list[tuple[str, bool]] | None = None
) -> list[Template]:
    """At most MAX_TEMPLATES texts, those that may write the status column first
    (`read`: each text's `_known_text`, when the caller made it cheaper).

    A text that names the column, holds a part not known here, or inserts
    (a positional INSERT names no column) is kept ahead of the others: a
    hundred texts that update other columns cannot crowd out the one that
    writes the status. When a text that may write the column (or be the
    guarded state) is cut all the same, the last one kept gives way to CUT:
    the write is then not known, never passed unread.
    """
    if len(texts) <= MAX_TEMPLATES:
        return texts
    column = ev.pack.tasks.status.lower()
    # Each text's known parts are read once: a product of choices cut here is large.
    read = read or [_known_text(t) for t in texts]
    known = [text for text, _ in read]
    writes = [
        _may_write(t, text, holes, column) for t, (text, holes) in zip(texts, read, strict=True)
    ]
    first = [t for t, may in zip(texts, writes, strict=True) if may]
    rest = [t for t, may in zip(texts, writes, strict=True) if not may]
    kept = (first + rest)[:MAX_TEMPLATES]
    kept_ids = {id(t) for t in kept}
    dropped = [
        (t, text, may)
        for t, text, may in zip(texts, known, writes, strict=True)
        if id(t) not in kept_ids
    ]
    table = ev.pack.tasks.table_text.lower()
    if not any(column in text or table in text for _, text, _ in dropped):
        return kept  # texts of no SQL about the board (an identifier passed to fetch())
    guarded = ev.pack.tasks.guarded
    if CUT in kept or all(_harmless(ev, t, may, column, guarded) for t, _, may in dropped):
        return kept
    return [*kept[: MAX_TEMPLATES - 1], CUT]


def _known_text(template: Template) -> tuple[str, bool]:
    """A text's known parts joined, in lower case (what names a table or a column: a
    text that names neither the tasks table nor the status column is read as no write
    of the board, cut or not: sinks.py), and whether it holds a part not known here."""
    known, holes = _known_parts(template)
    return known.lower(), holes


# The keywords of a write as words: `updated_at` or `inserted_by` in a SELECT is none.
_WRITE_WORDS = ("update", "insert", "replace")
_ADD_WORDS = ("insert", "replace")


def _has_word(text: str, words: tuple[str, ...]) -> bool:
    """Whether one of `words` stands in `text` as a whole word (what `\\b(?:a|b)\\b`
    finds), found by str.find: a regex tries every position of a long SQL text, and
    the texts a product of choices makes are thousands."""
    for word in words:
        at = text.find(word)
        while at >= 0:
            if not _word_char(text, at - 1) and not _word_char(text, at + len(word)):
                return True
            at = text.find(word, at + 1)
    return False


def _word_char(text: str, at: int) -> bool:
    """Whether the character at `at` continues a word, as `\\w` reads it (none out of
    the text)."""
    if at < 0 or at >= len(text):
        return False
    char = text[at]
    return char.isalnum() or char == "_"


def _known_parts(template: Template) -> tuple[str, bool]:
    """A text's known parts joined, as written, and whether it holds a part not known."""
    known = [p for p in template if isinstance(p, str)]
    return "".join(known), len(known) < len(template)


def _may_write(template: Template, text: str, holes: bool, column: str) -> bool:
    """Whether a text (`text`: its known parts; `holes`: it holds a part not known
    here) may write the status column: it may be a write (UPDATE, INSERT or REPLACE in
    its text, or a part not known here at its head) and it names the column, holds a
    part not known here, or inserts (a positional INSERT names no column). A SELECT
    built on many branches is a read, whatever it names."""
    head = next((p for p in template if not isinstance(p, str) or p.strip()), "")
    writes = isinstance(head, Hole) or _has_word(text, _WRITE_WORDS)
    return writes and (holes or column in text or _has_word(text, _ADD_WORDS))


def _harmless(
    ev: Evaluator, template: Template, may_write: bool, column: str, guarded: str
) -> bool:
    """Whether a text cut unread cannot write the guarded state, read on its face:
    it cannot write the column at all (`may_write`), or it is known in full, does not
    insert, holds the state nowhere, and every mention of the column sets it to a
    plain literal."""
    if not may_write and not could_be(template, guarded):
        return True
    if any(isinstance(p, Hole) for p in template):
        return _other_columns(ev, template, column)
    text = "".join(template).lower()
    if guarded.lower() in text or _has_word(text, _ADD_WORDS):
        return False
    return text.count(column) == len(_set_to_literal(column).findall(text))


def _other_columns(ev: Evaluator, template: Template, column: str) -> bool:
    """Whether a text with parts not known here writes only other columns, read as the
    write itself is read (sinks.py): a part that stands for a table's name or a key
    writes nothing, one that names a column or a part of a SET list may write any."""
    head = next((p for p in template if not isinstance(p, str) or p.strip()), "")
    if isinstance(head, Hole):
        return False
    text, _ = marked_text(template)
    return not any(
        effect.fragment or effect.column_hole >= 0 or effect.column in (column, ANY_COLUMN)
        for effect in ev.writes(text.lower(), {})
    )


@functools.cache
def _set_to_literal(column: str) -> re.Pattern[str]:
    """`column = 'literal'` ending there (a comma, a WHERE, the end), quoted or not."""
    name = re.escape(column)
    return re.compile(
        rf"""(?<![\w$]){name}["`\]]?\s*=\s*'[^']*'(?=\s*(?:,|\)|;|\Z|where\b|returning\b))"""
    )


def cut_reason(template: Template) -> str | None:
    """Why a text stands for (or holds) texts cut or too long to read; None if not."""
    unread = (CUT[0], TOO_LONG_WRITE[0])
    hole = next((p for p in template if isinstance(p, Hole) and p in unread), None)
    return hole.expr.reason if hole is not None else None


def _looked_up(ev: Evaluator, expr: Expr, frame: Frame | None) -> list[Template] | None:
    """`queries[k]` or `queries.get(k[, default])` of a dict of texts (named queries):
    the text of each entry `k` may select, every entry's when `k` is not known here.
    None when no dict is found (a sequence's item is read as a structure)."""
    if isinstance(expr, Index) and not isinstance(expr.key, Lit | Ref | Param | OneOf):
        return None
    if isinstance(expr, Index):
        base, key, default = expr.base, expr.key, None
    elif isinstance(expr, Call) and expr.args and _getter(expr.func) is not None:
        base, key = _getter(expr.func), expr.args[0]
        default = expr.args[1] if len(expr.args) > 1 else None
    else:
        return None
    if isinstance(key, Lit) and not isinstance(key.value, str):
        return None
    structs = ev.structures(base, frame)
    if not any(isinstance(s, DictLit) for s in structs):
        return None
    keys = ev.const_set(key, frame)
    texts: list[Template] = []
    for struct in structs:
        if not isinstance(struct, DictLit):
            texts.append((Hole(expr, frame),))
            continue
        for name, value in struct.items:
            if isinstance(name, Star):  # a spread mapping: look the key up there
                texts += ev.strings(ev.item(name.expr, key), frame)
                continue
            names = ev.const_set(name, frame)
            if keys is None or names is not None:
                texts += ev.strings(value, frame) if keys is None or keys & names else []
            else:
                texts += _named(ev.strings(value, frame), keys)
    if default is not None:
        texts += ev.strings(default, frame)
    return texts


def _named(texts: list[Template], keys: frozenset[str]) -> list[Template]:
    """The texts of an entry whose key is not known here (named queries read from a
    file: `result[name] = section`) that a known key selects: those standing under that
    name in their file (solve/files.py), when there are some; else all of them."""
    chosen = [t for t in texts if isinstance(t, NamedText) and t.name in keys]
    return chosen or texts


def _getter(func: Expr) -> Expr | None:
    """The mapping whose `.get` is called (`queries.get`, or a module constant's,
    which the summary names `mod.QUERIES.get`), if the call is one."""
    if isinstance(func, Attr) and func.name == "get":
        return func.base
    if isinstance(func, Ref) and func.qual.endswith(".get"):
        return Ref(func.qual.removesuffix(".get"))
    return None


def _on_constant(ev: Evaluator, call: Call) -> Call:
    """`QUERY.format(table)`, `SEP.join(parts)` or `QUERY.strip()` on a module constant,
    which the summary names `mod.QUERY.format`: the method called on the constant's text."""
    assert isinstance(call.func, Ref)
    head, _, name = call.func.qual.rpartition(".")
    if name not in ("format", "join", *STRIPS) or not head:
        return call
    target = ev.index.resolve(head)
    if not (target and target[0] == "global"):
        return call
    return dataclasses.replace(call, func=Attr(Ref(head), name))


def _wrapped_text(expr: Expr) -> Expr | None:
    """The SQL text a library call wraps as it is (`text("UPDATE ...")`), if it is one."""
    if isinstance(expr, Call) and isinstance(expr.func, Ref) and expr.args:
        if expr.func.qual in SAME_VALUE:
            return expr.args[-1]
        return expr.args[0] if expr.func.qual in SQL_TEXT_WRAPPERS else None
    return None


def _allowed(ev: Evaluator, expr: Narrowed, frame: Frame | None) -> list[str]:
    """The texts a value checked against a known allow-list can have: the list's, or
    those of the value's own known texts the list keeps (a dict comprehension's key
    `k` filtered by `if k in ALLOWED` is the one key of its element)."""
    allowed = ev.const_set(expr.allow, frame)
    denied = ev.const_set(expr.deny, frame) if expr.deny is not None else None
    kept = sorted((allowed or frozenset()) - (denied or frozenset()))
    own = ev.strings(expr.expr, frame)
    if kept and all(isinstance(piece, str) for text in own for piece in text):
        return sorted({"".join(text) for text in own} & set(kept)) or kept
    return kept


def marked_text(template: Template) -> tuple[str, list[Hole]]:
    """The template as SQL text with numbered hole markers (sql.py reads them), and
    its holes in order."""
    holes = [piece for piece in template if isinstance(piece, Hole)]
    # A hole's number is that of its first equal hole; the same object repeated (a
    # text doubled many times) is looked up by identity, not compared again.
    numbers: dict[int, int] = {}
    parts = []
    for piece in template:
        if isinstance(piece, str):
            parts.append(piece)
            continue
        number = numbers.get(id(piece))
        if number is None:
            number = numbers[id(piece)] = holes.index(piece)
        parts.append(f"{HOLE_OPEN}{number}{HOLE_CLOSE}")
    return "".join(parts), holes


def string_values(ev: Evaluator, expr: Expr, frame: Frame | None) -> list[Atom]:
    """The values of a built string: its texts, or unknown where a part is.

    A text that is one hole is that part's value (`f"{status}"`); a text whose
    literal parts rule out the guarded state cannot carry it.
    """
    guarded = ev.pack.tasks.guarded
    atoms: list[Atom] = []
    for template in ev.strings(expr, frame):
        holes = [piece for piece in template if isinstance(piece, Hole)]
        if not holes:
            atoms.append(Atom("const", "".join(template)))
        elif len(template) == 1:
            atoms += ev.values(holes[0].expr, holes[0].frame)
        elif could_be(template, guarded):
            atoms.append(Atom("unknown", "text built from values not known here"))
        else:
            atoms.append(Atom("unknown", "text built here", deny=frozenset([guarded])))
    return atoms


def could_hold(template: Template, text: str) -> bool:
    """Whether some filling of the template's holes gives a text that holds `text`."""
    return could_be((Hole(Unknown("before"), None), *template, Hole(Unknown("after"), None)), text)


def could_be(template: Template, text: str) -> bool:
    """Whether some filling of the template's holes gives `text`.

    A known part that `text` does not hold rules it out before any pattern is
    built: a long SQL text is never a short state (many texts are asked, once each).
    """
    if any(isinstance(p, str) and p not in text for p in template):
        return False
    pattern = "".join(re.escape(p) if isinstance(p, str) else ".*" for p in template)
    return re.fullmatch(pattern, text, re.DOTALL) is not None


def product(ev: Evaluator, parts: list[list[Template]]) -> list[Template]:
    """Every text made of one text of each part, in order, capped as any choice is.
    Past MAX_COMBOS, a part whose choices cannot change what is written to the status
    column (`sql += ", k0 = 1"` on hundreds of branches) is read as its first choice;
    if that is not enough, the texts not made are cut and the write is not known."""
    if math.prod(len(p) for p in parts) > MAX_COMBOS:
        column, guarded = ev.pack.tasks.status.lower(), ev.pack.tasks.guarded.lower()
        parts = [p[:1] if _inert(p, column, guarded) else p for p in parts]
    kept = _unwritten(ev, parts)
    if kept is not None:
        return kept
    board = (ev.pack.tasks.status.lower(), ev.pack.tasks.table_text.lower())
    texts = _combined(parts, MAX_COMBOS, board)
    capped = _capped(ev, texts, _read(parts, texts) if len(texts) > MAX_TEMPLATES else None)
    if CUT not in capped or any(CUT in options for options in parts):
        return capped
    varying = _varied(ev, parts)
    return _combined(varying, MAX_TEMPLATES, board) if varying else capped


def _unwritten(ev: Evaluator, parts: list[list[Template]]) -> list[Template] | None:
    """What `_capped` keeps of the texts the parts make, told from the parts alone when
    none of those texts can write nor be the guarded state (a WHERE built from many
    rules: thousands of texts, all reads): their first MAX_TEMPLATES. None when the
    parts make no more texts than that, or when it cannot be told so (the texts are
    then made and read one by one).

    No text writes when none starts with a part not known here and no choice holds a
    write keyword as a word, nor can one form across two choices (a word character on
    both sides of a join). No text can be the guarded state when one part's every
    choice holds a literal piece the state does not hold (`could_be`)."""
    count = math.prod(len(p) for p in parts)
    if count <= MAX_TEMPLATES or count > MAX_COMBOS:
        return None
    if sum(max(_text_size(t) for t in part) for part in parts) > MAX_TEXT:
        return None
    if any(cut_reason(t) for part in parts for t in part) or _may_start_open(parts):
        return None
    guarded = ev.pack.tasks.guarded
    if not any(all(_rules_out(t, guarded) for t in part) for part in parts):
        return None
    word_before = False  # whether a text made so far may end with a word character
    for part in parts:
        knowns = [_known_parts(t)[0].lower() for t in part]
        if any(_has_word(known, _WRITE_WORDS) for known in knowns):
            return None
        if word_before and any(known and _word_char(known, 0) for known in knowns):
            return None
        ends = any(known and _word_char(known, len(known) - 1) for known in knowns)
        word_before = ends or (word_before and not all(knowns))
    combos = itertools.islice(itertools.product(*parts), MAX_TEMPLATES)
    return [tuple(itertools.chain(*combo)) for combo in combos]


def _may_start_open(parts: list[list[Template]]) -> bool:
    """Whether a text the parts make may start (past blank pieces) with a part not
    known here, which may be a write (`_may_write`)."""
    for part in parts:
        leads = [next((p for p in t if not isinstance(p, str) or p.strip()), None) for t in part]
        if any(isinstance(lead, Hole) for lead in leads):
            return True
        if all(lead is not None for lead in leads):
            return False
    return False


def _rules_out(template: Template, text: str) -> bool:
    """Whether a text holds a literal piece that `text` does not (`could_be`'s test)."""
    return any(isinstance(p, str) and p not in text for p in template)


def _combined(parts: list[list[Template]], limit: int, board: tuple[str, ...]) -> list[Template]:
    """One text per choice of each part, in order; past `limit` the last is CUT. Each
    choice's size is counted once, not once per text it goes into. A text longer than
    MAX_TEXT is not read: TOO_LONG_WRITE when a choice it is made of names a write and
    one names the board (`board`: the status column and the table), else TOO_LONG."""
    sizes = itertools.product(*[[_text_size(template) for template in part] for part in parts])
    marks = itertools.product(*[[_mentions(choice, board) for choice in part] for part in parts])
    combos = itertools.islice(itertools.product(*parts), limit + 1)
    texts = [
        tuple(itertools.chain(*combo)) if sum(size) <= MAX_TEXT else _too_long(mark)
        for combo, size, mark in zip(combos, sizes, marks, strict=False)
    ]
    if len(texts) > limit:
        texts[-1] = CUT
    return texts


def _unread(text: Template) -> bool:
    """Whether a text stands for texts not made (too long, or past the cut)."""
    return text is TOO_LONG or text is TOO_LONG_WRITE or text is CUT


def _mentions(template: Template, board: tuple[str, ...]) -> tuple[bool, bool]:
    """Whether a text's known parts name a write, and whether they name the board."""
    known = _known_parts(template)[0].lower()
    return _has_word(known, _WRITE_WORDS), any(word in known for word in board)


def _too_long(marks: tuple[tuple[bool, bool], ...]) -> Template:
    """What stands for a text too long to read, from its choices' `_mentions`."""
    writes = any(write for write, _ in marks)
    return TOO_LONG_WRITE if writes and any(named for _, named in marks) else TOO_LONG


def _read(parts: list[list[Template]], texts: list[Template]) -> list[tuple[str, bool]]:
    """Each text's `_known_text`, joined from its choices' known parts (read once each)."""
    choices = [[_known_parts(template) for template in part] for part in parts]
    knowns = itertools.product(*[[known for known, _ in part] for part in choices])
    holes = itertools.product(*[[hole for _, hole in part] for part in choices])
    return [
        (_known_text(text) if _unread(text) else ("".join(k).lower(), any(h)))
        for text, k, h in zip(texts, knowns, holes, strict=False)
    ]


def _varied(ev: Evaluator, parts: list[list[Template]]) -> list[list[Template]] | None:
    """The parts with those of most choices made one part that varies, until the texts
    fit the budget, or None when a part so made could hide a write of its own.

    Where the part lands decides (sql.py): in a WHERE, an ORDER BY or a SELECT it can
    write nothing, however many texts it has; in a SET list, a column list or a value
    it is a part not known here (KA002), never passed unread. So only parts whose every
    text is plain SQL that starts no statement and names no state can vary unread.
    """
    guarded = ev.pack.tasks.guarded.lower()
    parts = list(parts)
    while math.prod(len(p) for p in parts) > MAX_TEMPLATES:
        widest = max(range(len(parts)), key=lambda n: len(parts[n]))
        if not all(_quiet(option, guarded) for option in parts[widest]):
            return None
        reason = f"{BUDGET}: one of {len(parts[widest])} texts"
        parts[widest] = [(Hole(Unknown(reason), None),)]
    return parts


def _quiet(template: Template, guarded: str) -> bool:
    """Whether a text can stand in its place unread: no text cut unread, quotes and
    brackets closed, no statement end, no write verb (`FOR UPDATE` locks, it does
    not write) and no mention of the guarded state."""
    if cut_reason(template):
        return False
    text = "".join(p for p in template if isinstance(p, str)).lower()
    if text.count("'") % 2 or text.count("(") != text.count(")") or ";" in text:
        return False
    return guarded not in text and not WRITE_VERB.search(text)


def _inert(options: list[Template], column: str, guarded: str) -> bool:
    """Whether a part's choices are plain SQL that cannot name the column, hold a value
    or a placeholder, or join a word with the text around it (`, k0 = 1` or nothing)."""
    for option in options:
        if any(not isinstance(piece, str) for piece in option):
            return False
        text = "".join(option).lower()
        if not text:
            continue
        if text[0].isalnum() or text[0] == "_" or text[-1].isalpha() or text[-1] == "_":
            return False
        if any(word in text for word in (column, guarded, "insert", "replace", "update")):
            return False
        if any(char in text for char in INERT_EXCLUDES):
            return False
    return True


def _join(ev: Evaluator, call: Call, frame: Frame | None) -> list[Template]:
    """`sep.join(fragments)`: one text per choice of each fragment's text. A fragment
    that may be one of several texts (a key kept by an allow-list, `{k: v for k, v
    in body.items() if k in ALLOWED}`) gives a text per choice; past the budget, each
    text of each fragment once when no placeholder is bound by position, else those
    fragments are holes."""
    assert isinstance(call.func, Attr)
    separators = ev.strings(call.func.base, frame)
    joined: list[Template] = []
    column = ev.pack.tasks.status.lower()
    for fragments in ev.structures(call.args[0], frame)[:4]:
        items = ev.elements(fragments, frame)
        options = [ev.strings(item, frame) for item in items]
        # One item (what every append of a builder adds) is each of its texts.
        limit = MAX_TEMPLATES if len(items) == 1 else MAX_CHOICES
        if math.prod(len(texts) for texts in options) > limit:
            options = _settled(options, column, ev.pack.tasks.guarded)
        choices = list(itertools.islice(itertools.product(*options), limit + 1))
        if len(choices) > limit:
            numbered = not any(_positional(t) for texts in options for t in texts)
            choices = _each_once(options) if numbered else []
        if not choices or len(choices) > MAX_TEMPLATES:
            choices = [
                tuple(
                    texts[0] if len(texts) == 1 else (Hole(item, frame),)
                    for item, texts in zip(items, options, strict=True)
                )
            ]
        for texts in choices:
            for sep in separators[:4]:
                pieces: list = []
                for n, text in enumerate(texts):
                    if n:
                        pieces += list(sep)
                    pieces += list(text)
                joined.append(tuple(pieces))
    return _capped(ev, joined)


# Placeholders bound by position: which text an earlier fragment is moves them.
_POSITIONAL = re.compile(r"\?(?!\d)|%s|%\(")


def _positional(template: Template) -> bool:
    return any(isinstance(p, str) and _POSITIONAL.search(p) for p in template)


def _each_once(options: list[list[Template]]) -> list[tuple[Template, ...]]:
    """Fragments whose placeholders are numbered or named (`$3`, `:id`) or absent: each
    text of each fragment once, the others at their first text. What a fragment
    writes is its own text, wherever the others put it: CTEs of one statement
    composed on many branches (pgqueuer's dequeue) are each read, not made a part not
    known here for the number of their combinations."""
    first = tuple(texts[0] for texts in options)
    choices = [first]
    for n, texts in enumerate(options):
        choices += [first[:n] + (text,) + first[n + 1 :] for text in texts[1:]]
    return choices


def _settled(options: list[list[Template]], column: str, guarded: str) -> list[list[Template]]:
    """Fragments after the last one that may name the status column (or hold the
    guarded state) read as their first text: what they set is another column, and
    being later they cannot move the placeholders that bind its value (`status = ?,
    worker = $2` or `... = ?` from backends' dialects, numbered by a counter)."""
    naming = [
        n
        for n, texts in enumerate(options)
        if any(_names(t, column) or could_hold(t, guarded) for t in texts)
    ]
    last = naming[-1] if naming else -1
    return [texts[:1] if n > last else texts for n, texts in enumerate(options)]


def _names(template: Template, column: str) -> bool:
    """Whether a fragment may name the column: it does, or a part of it not known here
    comes before its first `=` (`{key} = ?`; in `worker = ${n}` it is the value)."""
    text = "".join(p for p in template if isinstance(p, str)).lower()
    if re.search(rf"(?<![\w$]){re.escape(column)}(?!\w)", text):
        return True
    for piece in template:
        if isinstance(piece, Hole):
            return True
        if "=" in piece:
            return False
    return False


def _percent(ev: Evaluator, template: Template, args: Expr, frame: Frame | None) -> list[Template]:
    structs = ev.structures(args, frame)
    struct = structs[0] if len(structs) == 1 else Unknown("format arguments")
    if not any(isinstance(s, Seq | DictLit) for s in structs):
        struct = args  # one value, whatever texts it may be
    named: dict = {}
    positional: list[Expr] = []
    if isinstance(struct, DictLit):
        named = {k.value: v for k, v in struct.items if isinstance(k, Lit)}
    else:
        positional = list(struct.items) if isinstance(struct, Seq) else [struct]
    position = itertools.count()

    def replace_match(match: re.Match[str]) -> list[Template]:
        if match.group() == "%%":
            return [("%",)]
        if match.group(1):
            value = named.get(match.group(1))
        else:
            index = next(position)
            value = positional[index] if index < len(positional) else None
        return _text_of(ev, value, Hole(args, frame), frame)

    return _substitute(ev, template, PERCENT, replace_match)


def _format(ev: Evaluator, template: Template, call: Call, frame: Frame | None) -> list[Template]:
    named = dict(call.kwargs)
    position = itertools.count()
    reads = _reads(template)

    def replace_match(match: re.Match[str]) -> list[Template]:
        field_name = match.group(1)
        index = next(position) if field_name == "" else None
        if field_name.isdigit():
            index = int(field_name)
        if index is None:
            value = named.get(field_name)
        else:
            value = call.args[index] if index < len(call.args) else None
        if reads:
            return [(Hole(value if value is not None else call, frame),)]
        texts = _text_of(ev, value, Hole(call, frame), frame)
        quote = ("'",) if match.group(2) in ("r", "a") else ()
        return [quote + text + quote for text in texts]

    return _substitute(ev, template, BRACE, replace_match, _unescape_braces)


def _reads(template: Template) -> bool:
    """Whether a text is a SELECT and nothing else: filled in by `.format`, it is a read
    whatever fills it, so its fields stay holes (a table, a column and a key of a
    dozen classes each would make more texts than the budget, for no write)."""
    text = "".join(p for p in template if isinstance(p, str)).lower()
    head = text.lstrip(" \t\n(")
    return head.startswith("select") and ";" not in text and not _has_word(text, _WRITE_WORDS)


def _text_of(
    ev: Evaluator, value: Expr | None, missing: Hole, frame: Frame | None
) -> list[Template]:
    """The texts a substituted value can have, or a hole if there is no value."""
    return ev.strings(value, frame) if value is not None else [(missing,)]


def _substitute(
    ev: Evaluator,
    template: Template,
    pattern: re.Pattern[str],
    replace_match: Callable[[re.Match[str]], list[Template]],
    plain: Callable[[str], str] = str,
) -> list[Template]:
    """Rewrite the literal pieces of a template: each match becomes one of the texts
    given, so a value that may be several texts gives a text per choice."""
    parts: list[list[Template]] = []
    for piece in template:
        if not isinstance(piece, str):
            parts.append([(piece,)])
            continue
        pos = 0
        for match in pattern.finditer(piece):
            parts.append([(plain(piece[pos : match.start()]),)])
            pos = match.end()
            parts.append(replace_match(match))
        parts.append([(plain(piece[pos:]),)])
    return product(ev, parts)


def _unescape_braces(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def _is_hole(template: Template) -> bool:
    return len(template) == 1 and isinstance(template[0], Hole)


STRIPS = ("strip", "lstrip", "rstrip")


def _is_strip(expr: Expr) -> bool:
    return (
        isinstance(expr, Call)
        and isinstance(expr.func, Attr)
        and expr.func.name in STRIPS
        and not expr.args
        and not expr.kwargs
    )


def _stripped(template: Template, method: str) -> Template:
    """`sql.strip()`: the text without the white space its known ends begin or end with."""
    pieces = list(template)
    if method != "rstrip" and pieces and isinstance(pieces[0], str):
        pieces[0] = pieces[0].lstrip()
    if method != "lstrip" and pieces and isinstance(pieces[-1], str):
        pieces[-1] = pieces[-1].rstrip()
    stripped = tuple(piece for piece in pieces if piece != "")
    return template if stripped == template else stripped


def _text_size(template: Template) -> int:
    """A text's size: its known characters, and one for each part not known here (a
    text of a million such parts is as long as any)."""
    return sum(len(piece) if isinstance(piece, str) else 1 for piece in template)
