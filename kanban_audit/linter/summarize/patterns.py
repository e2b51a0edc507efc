"""`match` statements: what each `case` proves about the subject.

`case "running": raise ...` is a guard: the cases after it, and the code
after the `match`, see a subject that is not `running`. A value pattern
(a literal, `Status.RUNNING`, `None`) or an or-pattern of them narrows the
subject to those values inside the case and away from them after it; a
wildcard or a capture matches everything, so nothing runs after it
unmatched; a capture (`case other:`, `case "a" | "b" as s:`) binds the
subject as the case sees it. A case with a guard (`case x if ...`) may be
passed over, so it narrows nothing for the cases after it; class, sequence
and mapping patterns bind what they take apart as values not known here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from kanban_audit.linter.summarize import guards
from kanban_audit.linter.summarize.names import subject
from kanban_audit.linter.values import Expr, Narrowed, Seq, Unknown

if TYPE_CHECKING:
    from kanban_audit.linter.summarize.interpreter import Env, FunctionAnalyzer


@dataclass(frozen=True)
class Split:
    """A case's effect: the environment where it matched, and the one the next
    case starts from (None when the pattern matches everything), with the subject
    as that case sees it (a subject no name holds, `match Status(raw):`, is carried
    here from case to case)."""

    matched: Env
    unmatched: Env | None
    rest: Expr


def split(
    fa: FunctionAnalyzer,
    case: cst.MatchCase,
    subject_node: cst.BaseExpression,
    env: Env,
    original: Expr,
) -> Split:
    """The environments in which `case` matches and in which it does not, for a subject
    whose value the cases before left as `original`."""
    value = rest = original
    key = subject(subject_node)
    matched, unmatched = dict(env), dict(env)
    pattern = case.pattern
    values = _values(pattern)
    if values is not None:
        members = Seq(tuple(fa.expr(node, env) for node in values))
        value = Narrowed(original, members, None)
        rest = Narrowed(original, None, members)
        if key:
            matched[key] = value
            unmatched[key] = rest
    for name in _captures(pattern):
        fa.assign(
            cst.Name(name),
            value if _binds_subject(pattern, name) else Unknown("a part taken by a pattern"),
            matched,
        )
    if case.guard is not None:
        fa.expr(case.guard, matched)
        matched = guards.apply(fa, guards.facts(fa, case.guard)[0], matched)
        return Split(matched, dict(env), original)
    return Split(matched, None if _irrefutable(pattern) else unmatched, rest)


def _values(pattern: cst.MatchPattern) -> list[cst.BaseExpression] | None:
    """The values a pattern matches when it is value patterns only (`"a" | "b"`)."""
    if isinstance(pattern, cst.MatchAs) and pattern.pattern is not None:
        return _values(pattern.pattern)
    if isinstance(pattern, cst.MatchValue):
        return [pattern.value]
    if isinstance(pattern, cst.MatchSingleton):
        return [pattern.value]
    if isinstance(pattern, cst.MatchOr):
        found: list[cst.BaseExpression] = []
        for element in pattern.patterns:
            inner = _values(element.pattern)
            if inner is None:
                return None
            found += inner
        return found
    return None


def _irrefutable(pattern: cst.MatchPattern) -> bool:
    """A wildcard or a bare capture (or an or-pattern holding one)."""
    if isinstance(pattern, cst.MatchAs):
        return pattern.pattern is None or _irrefutable(pattern.pattern)
    if isinstance(pattern, cst.MatchOr):
        return any(_irrefutable(element.pattern) for element in pattern.patterns)
    return False


def _binds_subject(pattern: cst.MatchPattern, name: str) -> bool:
    """Whether `name` is bound to the whole subject (`case x:`, `case ... as x:`)."""
    return (
        isinstance(pattern, cst.MatchAs) and pattern.name is not None and pattern.name.value == name
    )


def _captures(pattern: cst.CSTNode) -> list[str]:
    """Every name a pattern binds."""
    found: list[str] = []
    todo: list[cst.CSTNode] = [pattern]
    while todo:
        node = todo.pop()
        if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            found.append(node.name.value)
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            found.append(node.rest.value)
        if isinstance(node, (cst.MatchValue, cst.MatchSingleton)):
            continue
        todo += node.children
    return found
