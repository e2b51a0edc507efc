"""Globs of the configuration (include, exclude, per-file ignores), gitignore-like.

A pattern comes from a configuration file that may be hostile, and every
`*` becomes a regular-expression loop: a pattern such as `*a*a*a*a*b`
backtracks for minutes on a long file name. `too_costly` bounds that, for
these globs and for the patterns of `.gitignore` files alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Beyond these, a pattern's worst case grows too fast with the path's length.
MAX_WILDCARDS = 3  # runs of `*` in one pattern, `**` counting as one
MAX_DOUBLE_STARS = 2


def too_costly(pattern: str) -> bool:
    """Whether matching the pattern could take super-linear time on a hostile path."""
    doubles = pattern.count("**")
    singles = pattern.count("*") - 2 * doubles
    return doubles > MAX_DOUBLE_STARS or doubles + singles > MAX_WILDCARDS


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-like glob: `**` spans directories, `*` stays inside one."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matches(relpath: str, patterns: tuple[str, ...], parents: bool = True) -> bool:
    """Whether a path (or, with `parents`, any of its folders) matches one of the globs.

    A pattern without a slash matches a name at any depth, as in .gitignore.
    """
    parts = relpath.split("/")
    if parents:
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    else:
        parts, prefixes = parts[-1:], [relpath]
    for pattern in patterns:
        regex = glob_regex(pattern.rstrip("/"))
        if "/" in pattern.rstrip("/"):
            if any(regex.match(prefix) for prefix in prefixes):
                return True
        elif any(regex.match(part) for part in parts):
            return True
    return False


@dataclass(frozen=True)
class Globs:
    """Globs compiled once for a walk: one expression for names, one for paths.

    The same meaning as `matches(relpath, patterns, parents=False)`: a
    pattern without a slash matches the name, one with a slash the path.
    """

    names: re.Pattern[str] | None
    paths: re.Pattern[str] | None

    @classmethod
    def of(cls, patterns: tuple[str, ...]) -> Globs:
        def either(group: list[str]) -> re.Pattern[str] | None:
            return (
                re.compile("|".join(f"(?:{glob_regex(p).pattern})" for p in group))
                if group
                else None
            )

        stripped = [p.rstrip("/") for p in patterns]
        return cls(
            either([p for p in stripped if "/" not in p]), either([p for p in stripped if "/" in p])
        )

    def match(self, relpath: str, name: str) -> bool:
        return bool(
            (self.names and self.names.match(name)) or (self.paths and self.paths.match(relpath))
        )
