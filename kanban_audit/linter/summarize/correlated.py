"""Branches that test the same condition: a later test sees what an earlier one chose.

`status = "running" if worker else "ready"`, then `if worker: ... else:
INSERT ... status`: the `else` can only see "ready". A value chosen by a test
(a conditional expression assigned to a name, or a name bound differently on
the two branches of an `if`) remembers the test and its value on each side.
A later `if` or conditional expression with the same test (or its `not`)
gives each branch its side, as long as the chosen value and every name the
test reads are still the very objects they were (nothing rebound them).
Only tests made of names, attributes, constants, comparisons and `not`/`and`/
`or` are remembered: a call may answer differently the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from kanban_audit.linter.summarize.names import subject
from kanban_audit.linter.summarize.positions import fields_of
from kanban_audit.linter.values import Expr

Env = dict[str, Expr]
_PURE = (
    cst.Name,
    cst.Attribute,
    cst.SimpleString,
    cst.Integer,
    cst.Float,
    cst.Comparison,
    cst.ComparisonTarget,
    cst.BooleanOperation,
    cst.UnaryOperation,
    cst.BaseCompOp,
    cst.BaseBooleanOp,
    cst.BaseUnaryOp,
    cst.LeftParen,
    cst.RightParen,
    cst.BaseParenthesizableWhitespace,
    cst.Dot,
)


@dataclass(frozen=True)
class Choice:
    """`name` was bound to `joined`: `sides[0]` where the test held, else `sides[1]`;
    `reads` are the test's names and the values they had."""

    name: str
    joined: Expr
    sides: tuple[Expr, Expr]
    reads: tuple[tuple[str, Expr | None], ...]


@dataclass
class Choices:
    """The choices made so far in one body, by the test that made them."""

    by_test: dict[str, list[Choice]] = field(default_factory=dict)

    def remember(
        self, test: cst.BaseExpression, env: Env, name: str, joined: Expr, sides: tuple[Expr, Expr]
    ) -> None:
        """`env` is where the test was read; `sides` are the values on its true and
        false branches."""
        if sides[0] is sides[1]:
            return
        key, negated = _key(test)
        if key is None:
            return
        when_true, when_false = sides[::-1] if negated else sides
        reads = tuple((n, env.get(n)) for n in _reads(test))
        self.by_test.setdefault(key, []).append(
            Choice(name, joined, (when_true, when_false), reads)
        )

    def sides(self, test: cst.BaseExpression, env: Env) -> tuple[Env, Env]:
        """What a test made before gives its true and its false branch."""
        key, negated = _key(test)
        when_true: Env = {}
        when_false: Env = {}
        for choice in self.by_test.get(key or "", ()):
            same = env.get(choice.name) is choice.joined
            if same and all(env.get(n) is value for n, value in choice.reads):
                when_true[choice.name], when_false[choice.name] = choice.sides
        return (when_false, when_true) if negated else (when_true, when_false)


def _key(test: cst.BaseExpression) -> tuple[str | None, bool]:
    """The test as text, without a leading `not` (and whether there was one); None
    for a test that is not read the same way twice."""
    negated = False
    while isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        test, negated = test.expression, not negated
    if not _pure(test):
        return None, negated
    code = cst.Module([]).code_for_node(test)
    return " ".join(code.replace("(", " ").replace(")", " ").split()), negated


def _pure(node: cst.CSTNode) -> bool:
    if not isinstance(node, _PURE):
        return False
    for name in fields_of(type(node)):
        value = getattr(node, name)
        for part in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(part, cst.CSTNode) and not _pure(part):
                return False
    return True


def _reads(test: cst.CSTNode) -> list[str]:
    """The names and attribute chains a test reads, as environment keys."""
    if isinstance(test, cst.Attribute):
        key = subject(test)
        return ([key] if key else []) + _reads(test.value)
    if isinstance(test, cst.Name):
        return [test.value]
    return [key for child in test.children for key in _reads(child)]
