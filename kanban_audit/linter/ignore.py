"""Git's ignore rules, read the way git reads them, without running git.

Inside a git repository (a folder holding `.git`), `.git/info/exclude` and
the `.gitignore` of every folder from the repository's top down decide, with
git's precedence: a deeper file overrides a shallower one (and all of them
override `info/exclude`), the last matching line of a file wins, `!`
re-includes, and nothing below an ignored folder comes back (the walk never
enters it). Outside a repository `.gitignore` files mean nothing, as for git
and ruff. The user's global excludes file is not read, so a run finds the
same files on every machine. Matching is pathspec's `GitIgnoreSpec`.

Ignore files belong to the analysed tree and may be hostile: only regular
files up to MAX_BYTES are read (a `.gitignore` that is a symbolic link is not
followed, as by git), invalid lines are skipped as git skips them,
and a pattern whose matching could take super-linear time (`too_costly`) is
not applied, with a warning: analysing a file too many is safe, hanging is not.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kanban_audit.linter.globs import MAX_WILDCARDS, too_costly

if TYPE_CHECKING:  # pathspec is imported where an ignore file is read: most runs read none
    from pathspec import GitIgnoreSpec
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

MAX_BYTES = 1024 * 1024
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")

# Told about an ignore file that is not (fully) applied: its path, and why.
Warn = Callable[[Path, str], None]


@dataclass(frozen=True)
class IgnoreFile:
    """One file's patterns, matched against paths relative to `base`."""

    base: str  # the folder the patterns are relative to, with a trailing "/"
    spec: GitIgnoreSpec
    # Matches wherever some pattern does: one search rules out most paths,
    # where the spec would try every pattern in turn (None: always ask it).
    any_pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, base: str, patterns: list[GitIgnoreSpecPattern]) -> IgnoreFile:
        try:
            # Each pattern's own expression, its named groups made plain so they can be joined.
            joined = "|".join(f"(?:{_NAMED_GROUP.sub('(?:', p.regex.pattern)})" for p in patterns)
            any_pattern = re.compile(joined)
        except (re.error, AttributeError):
            any_pattern = None
        from pathspec import GitIgnoreSpec

        return cls(base, GitIgnoreSpec(patterns), any_pattern)

    def verdict(self, rel: str) -> bool | None:
        """True: ignored; False: re-included by a `!` line; None: no line matches."""
        if self.any_pattern is not None and not self.any_pattern.search(rel):
            return None
        return self.spec.check_file(rel).include


@dataclass(frozen=True)
class Ignores:
    """The ignore files in force in one folder, shallowest (weakest) first."""

    files: tuple[IgnoreFile, ...] = ()
    in_repository: bool = False

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether git would ignore `path` (absolute, below every file's base)."""
        suffix = "/" if is_dir else ""
        for level in reversed(self.files):
            verdict = level.verdict(path[len(level.base) :] + suffix)
            if verdict is not None:
                return verdict
        return False

    def enter(self, folder: str, names: set[str], warn: Warn) -> Ignores:
        """The rules in force inside `folder`, given the names it holds.

        A folder holding `.git` starts a repository of its own: the rules
        of the one around it do not apply inside it.
        """
        ignores = self
        if ".git" in names:
            ignores = Ignores(in_repository=True)
            exclude = _info_exclude(Path(folder, ".git"))
            if exclude is not None:
                ignores = ignores.read(exclude, folder, warn)
        if ignores.in_repository and ".gitignore" in names:
            ignores = ignores.read(Path(folder, ".gitignore"), folder, warn, follow=False)
        return ignores

    def read(self, path: Path, folder: str, warn: Warn, follow: bool = True) -> Ignores:
        """The rules with those of one more file; `follow=False` for a file of the
        tree: a symbolic link there is not read, as git (2.32 and later) does not."""
        patterns = _patterns(_read_lines(path, warn, follow) or [], path, warn)
        if not patterns:
            return self
        level = IgnoreFile.of(folder.rstrip("/") + "/", patterns)
        return replace(self, files=(*self.files, level))

    def without_matches(self, folder: str) -> Ignores:
        """The rules minus the patterns that ignore `folder` itself.

        A folder named on the command line is analysed even if ignored; the
        other patterns still apply inside it.
        """
        kept = []
        for level in self.files:
            rel = folder[len(level.base) :] + "/"
            patterns = [p for p in level.spec.patterns if not (p.include and p.match_file(rel))]
            kept.append(IgnoreFile.of(level.base, patterns))
        return replace(self, files=tuple(kept))


def ignores_above(top: Path, warn: Warn) -> Ignores:
    """The rules the folders above `top` put in force inside it.

    From the top of the repository `top` is in down to its parent; `top`'s
    own `.git` and `.gitignore` are read when the walk enters it.
    """
    chain = []
    for folder in top.parents:
        chain.append(folder)
        if os.path.lexists(folder / ".git"):
            break
    else:
        return Ignores()  # not inside a repository (it may be the top of one)
    ignores = Ignores()
    for folder in reversed(chain):
        names = {name for name in (".git", ".gitignore") if os.path.lexists(folder / name)}
        ignores = ignores.enter(str(folder), names, warn)
    return ignores


def _info_exclude(dot_git: Path) -> Path | None:
    """`info/exclude` of a repository; `.git` may be a file naming the real folder.

    Worktrees and submodules have a `.git` file (`gitdir: PATH`); a worktree's
    `info/exclude` lives in the common folder its `commondir` file names.
    """
    git_dir = dot_git
    if not dot_git.is_dir():
        lines = _read_lines(dot_git, lambda path, why: None) or []
        if not lines or not lines[0].startswith("gitdir:"):
            return None
        git_dir = dot_git.parent / lines[0][len("gitdir:") :].strip()
    common = _read_lines(git_dir / "commondir", lambda path, why: None)
    if common:
        git_dir = git_dir / common[0].strip()
    return git_dir / "info" / "exclude"


def _read_lines(path: Path, warn: Warn, follow: bool = True) -> list[str] | None:
    """The lines of a small regular file; None (and a warning if it matters) otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError:
        if not follow and os.path.islink(path):
            warn(path, "a symbolic link, not read (git does not follow it either)")
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > MAX_BYTES:
            warn(path, f"larger than {MAX_BYTES // 1024} KiB, not applied")
            return None
        with open(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    return [line.removesuffix("\r") for line in text.split("\n")]


def _patterns(lines: list[str], path: Path, warn: Warn) -> list[GitIgnoreSpecPattern]:
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    patterns = []
    for number, line in enumerate(lines, 1):
        if too_costly(line):
            warn(path, f"line {number}: more than {MAX_WILDCARDS} wildcards, not applied")
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pathspec's regex warnings are not ours
                pattern = GitIgnoreSpecPattern(line)
        except (ValueError, re.error):  # git skips a line it cannot read, too
            continue
        if pattern.include is not None:
            patterns.append(pattern)
    return patterns
