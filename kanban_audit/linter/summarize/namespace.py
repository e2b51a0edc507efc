"""The module-level environment between chunks, indexed by the name each key starts with.

A chunk reads, binds and clears only keys whose first name is a word of its text
(`x`, `x.attr`, `x['k']`), so it is run on those keys alone: what it costs does not
grow with the number of names the module defined before it.
"""

from __future__ import annotations

import re

from kanban_audit.linter.values import Expr

_ROOT = re.compile(r"[^.\[]*")  # `x` of `x`, `x.attr`, `x['k']`


def root(key: str) -> str:
    """The name a key starts with."""
    match = _ROOT.match(key)
    return match.group(0) if match else key


class Namespace:
    """Keys to values (in the order they were first bound), with the keys under each
    first name."""

    def __init__(self) -> None:
        self.values: dict[str, Expr] = {}
        self._keys: dict[str, set[str]] = {}
        self._order: dict[str, int] = {}
        self._bound = 0

    def seen_by(self, names: frozenset[str]) -> dict[str, Expr]:
        """The keys a chunk with these words can touch, with their values, in the
        module's order."""
        found = [key for name in names for key in self._keys.get(name, ())]
        found.sort(key=self._order.__getitem__)
        return {key: self.values[key] for key in found}

    def apply(self, cleared: tuple[str, ...], changed: dict[str, Expr]) -> None:
        """What a chunk left: keys it removed, keys it bound anew."""
        for key in cleared:
            if key in self.values:
                del self.values[key], self._order[key]
                self._keys[root(key)].discard(key)
        for key, value in changed.items():
            if key not in self.values:
                self._order[key] = self._bound
                self._bound += 1
                self._keys.setdefault(root(key), set()).add(key)
            self.values[key] = value
