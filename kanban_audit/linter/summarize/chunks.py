"""A module as chunks: its top-level statements, each summarised (and cached) alone.

The key of a chunk covers everything its summary depends on: its text, the
module it is in, and for every name it uses, whether the module defines or
imports it and the value the module-level statements before it gave it. Not
its place: a chunk is stored counting lines from its own first line and moved
where it stands when it is read, so lines added above it cost nothing.
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, is_dataclass

from kanban_audit.linter.codec import encode_value
from kanban_audit.linter.summarize.context import ModuleContext
from kanban_audit.linter.values import ChunkSummary, Expr, star_modules

_WORD = re.compile(rb"[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*")  # identifiers, UTF-8 ones too


@dataclass(frozen=True)
class Chunk:
    start: int  # first line, 1-based (a decorator's, for decorated definitions)
    end: int  # last line
    text: bytes
    statements: tuple[ast.stmt, ...]
    # Every word of the chunk's text: the names its code reads or binds, and more
    # (attributes, words in strings: forward references like "Model" among them).
    names: frozenset[str]


def split(tree: ast.Module, lines: list[bytes]) -> list[Chunk]:
    """Top-level statements; statements sharing a line stay together."""
    spans: list[list] = []  # [start, end, statements]
    for stmt in tree.body:
        start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", ())])
        end = stmt.end_lineno or stmt.lineno
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
            spans[-1][2].append(stmt)
        else:
            spans.append([start, end, [stmt]])
    return [
        _chunk(start, end, b"".join(lines[start - 1 : end]), group) for start, end, group in spans
    ]


def _chunk(start: int, end: int, text: bytes, statements: list[ast.stmt]) -> Chunk:
    words = frozenset(w.decode("utf-8", "replace") for w in set(_WORD.findall(text)))
    return Chunk(start, end, text, tuple(statements), words)


def chunk_key(
    chunk: Chunk,
    context: ModuleContext,
    env: dict[str, Expr],
    digests: dict[int, str],
    salt: str,
) -> str:
    """The cache key of a chunk's summary (see the module docstring)."""
    digest = hashlib.sha256()
    digest.update(f"{salt}\x1f{context.module}\x1f{context.is_package}\x00".encode())
    digest.update("\x1f".join(star_modules(context.imports)).encode())  # where free names go
    digest.update(chunk.text)
    for name in sorted(chunk.names):
        value = env.get(name)
        entry = [
            name,
            "top" if name in context.top_names else "",
            context.imports.get(name, ""),
            _value_digest(value, digests) if value is not None else "",
        ]
        digest.update(("\x00" + "\x1f".join(entry)).encode())
    return digest.hexdigest()


def _value_digest(value: Expr, digests: dict[int, str]) -> str:
    found = digests.get(id(value))
    if found is None:
        # A value built on one digested before (`x = f(x)`) costs its new parts only.
        found = digests[id(value)] = hashlib.sha256(encode_value(value, 0, digests)).hexdigest()
    return found


# Parts a chunk's summary may have per byte of its text, and for any chunk, to be
# stored: real chunks have a few per byte (a mapping spread from others, some 40).
STORED_PER_BYTE = 16
STORED_BASE = 256


def worth_storing(summary: ChunkSummary, chunk: Chunk) -> bool:
    """Whether a chunk's summary is small enough for the cache: one that holds the
    values of names rebuilt before it (`s = s + ''` a thousand times, each holding
    the chain before it) is cheaper to make again than to store, which would take
    space growing with the square of the file."""
    budget = STORED_BASE + STORED_PER_BYTE * len(chunk.text)
    seen: set[int] = set()
    stack: list[object] = [summary]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if len(seen) > budget:
            return False
        if is_dataclass(item):
            stack += vars(item).values()
        elif isinstance(item, tuple | list):
            stack += item
        elif isinstance(item, dict):
            stack += [*item, *item.values()]
    return True
