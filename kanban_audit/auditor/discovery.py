"""Find a board, or every board, the way the board's own code does (MISSION.md).

For Hermes this is `kanban_db_path()` and `list_boards()` of releases
0.13-0.19, step by step:

1. `$HERMES_KANBAN_DB` (stripped) pins the file;
2. the board root is `$HERMES_KANBAN_HOME` (stripped), else the root of
   `$HERMES_HOME`: a home inside the default home (`~/.hermes/profiles/coder`)
   is the default home, a profile home elsewhere (`<root>/profiles/<name>`) is
   `<root>`, any other home is its own root; without either, `~/.hermes`;
3. the board is `--board SLUG`, else `$HERMES_KANBAN_BOARD`, else the slug in
   `<root>/kanban/current`, else `default`; a slug is stripped and lowercased,
   and one from the environment or the file counts only when it is valid and
   that board exists (its folder holds its DB or `board.json`), else the next
   step decides, as in Hermes 0.15 and later (0.13 and 0.14 took a valid slug
   from the environment even for a board that did not exist yet: a board with
   nothing to audit);
4. `default` is `<root>/kanban.db`, any other board
   `<root>/kanban/boards/<slug>/kanban.db`.

Every name above comes from the pack's `[board]` section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from kanban_audit.auditor.board import BoardError, real_path
from kanban_audit.rulepack import BoardSection

SLUG = "{slug}"


@dataclass(frozen=True)
class Found:
    """One board: its name (None for a file named directly) and its DB path."""

    slug: str | None
    path: Path


def locate(board: BoardSection, db: str | None, slug: str | None, env: Mapping[str, str]) -> Path:
    """The board file: an explicit path, else the rules of the module docstring.

    A folder given as the path is looked into: it is taken as a board root (a
    profile home as its shared root) and the board in it found as above.
    """
    return find(board, db, slug, env).path


def find(board: BoardSection, db: str | None, slug: str | None, env: Mapping[str, str]) -> Found:
    """`locate`, keeping the board's name; the path is the real file behind any link
    (every command opens, checks the sidecars of and names backups after that one
    path: see `board.real_path`)."""
    found = _named(board, db, slug, env)
    return replace(found, path=real_path(found.path))


def _named(board: BoardSection, db: str | None, slug: str | None, env: Mapping[str, str]) -> Found:
    """The board as named: an explicit path, the DB variable or a board in the root."""
    wanted = _explicit_slug(board, slug)
    if db is not None:
        if not db:
            raise BoardError("board path is empty")
        path = Path(db).expanduser()
        if path.is_dir():
            found = _in_root(board, _home_root(board, path, env), wanted, env)
            if not found.path.exists():
                raise BoardError(f"no board in the folder {path}: {found.path} does not exist")
            return found
        if wanted is not None:
            raise BoardError(f"two boards named: the path {db!r} and --board {slug!r}")
        return Found(None, path)
    pinned = board.env_db and env.get(board.env_db, "").strip()
    if pinned:
        if wanted is not None:
            raise BoardError(
                f"--board {slug!r}: ${board.env_db} pins the board to {pinned}"
                f" (the board's own code would open that file); unset it or give the path"
            )
        return Found(None, Path(pinned).expanduser())
    return _in_root(board, root(board, env), wanted, env)


def root(board: BoardSection, env: Mapping[str, str]) -> Path:
    """The board root: the root variable, else the home variable's root, else the default."""
    override = board.env_home and env.get(board.env_home, "").strip()
    if override:
        return Path(override).expanduser()
    home = board.env_root and env.get(board.env_root, "")
    if home:
        return _home_root(board, Path(home), env)
    return Path(board.default_home or ".").expanduser()


def _home_root(board: BoardSection, home: Path, env: Mapping[str, str]) -> Path:
    """The shared root of a home: inside the default home it is that; a profile's is its root."""
    if board.default_home:
        native = Path(board.default_home).expanduser()
        if home.resolve().is_relative_to(native.resolve()):
            return native
    if board.profiles_dir and home.parent.name == board.profiles_dir:
        return home.parent.parent
    return home


def all_boards(board: BoardSection, db: str | None, env: Mapping[str, str]) -> list[Found]:
    """Every board under the root (or under the folder `db`) that has a DB file.

    The default board first, then the others by name, as `list_boards()`
    orders them; a board with only its metadata (no DB yet) has nothing to
    audit and is left out. `$HERMES_KANBAN_DB` pins one file, so it does not
    name every board: it is ignored here, as `list_boards()` ignores it.
    """
    if db is not None:
        path = Path(db).expanduser()
        if not path.is_dir():
            raise BoardError(f"--all-boards needs a board root folder, not {db!r}")
        base = _home_root(board, path, env)
    else:
        base = root(board, env)
    found = [Found(board.default_board, base / board.default_db)]
    folder = _boards_folder(board, base)
    if folder is not None and folder.is_dir():
        for child in sorted(folder.iterdir(), key=lambda p: p.name.lower()):
            slug = _valid(board, child.name)
            if slug is None or slug == board.default_board or not child.is_dir():
                continue
            if slug in {f.slug for f in found}:
                continue
            found.append(Found(slug, base / board.board_db.format(slug=slug)))
    boards = [replace(f, path=real_path(f.path)) for f in found if f.path.is_file()]
    if not boards:
        raise BoardError(f"no boards under {base}")
    return boards


def _explicit_slug(board: BoardSection, slug: str | None) -> str | None:
    """--board, normalized; an invalid name is an error (nothing falls through)."""
    if slug is None:
        return None
    normed = _normalize(board, slug)
    if normed is None or not _pattern_ok(board, normed):
        raise BoardError(f"invalid board name: {slug!r}")
    return normed


def _in_root(board: BoardSection, base: Path, wanted: str | None, env: Mapping[str, str]) -> Found:
    slug = wanted or _current(board, base, env)
    if slug == board.default_board:
        return Found(slug, base / board.default_db)
    return Found(slug, base / board.board_db.format(slug=slug))


def _current(board: BoardSection, base: Path, env: Mapping[str, str]) -> str:
    """The board variable, else the current file, each only for a board that exists."""
    named = board.env_board and env.get(board.env_board, "")
    slug = _valid(board, named) if named else None
    if slug is not None and _exists(board, base, slug):
        return slug
    if board.current_file:
        where = base / board.current_file
        try:
            text = where.read_text(encoding="utf-8")
        except OSError:
            text = ""
        except UnicodeDecodeError:  # the board's own code fails here too
            raise BoardError(f"invalid board name in {where}: not UTF-8") from None
        slug = _valid(board, text)
        if slug is not None and _exists(board, base, slug):
            return slug
    return board.default_board


def _normalize(board: BoardSection, slug: str) -> str | None:
    text = slug.strip()
    if board.slug_case == "lower":
        text = text.lower()
    return text or None


def _pattern_ok(board: BoardSection, slug: str) -> bool:
    if board.slug_pattern:
        return re.fullmatch(board.slug_pattern, slug) is not None
    return ".." not in slug and "/" not in slug and "\x00" not in slug


def _valid(board: BoardSection, slug: str) -> str | None:
    normed = _normalize(board, slug)
    return normed if normed is not None and _pattern_ok(board, normed) else None


def _boards_folder(board: BoardSection, base: Path) -> Path | None:
    """The folder holding one sub-folder per named board (from `board_db`)."""
    before, sep, _ = board.board_db.partition(SLUG)
    return base / before if sep and before.endswith("/") else None


def _exists(board: BoardSection, base: Path, slug: str) -> bool:
    """The default board always exists; another when its folder holds its DB or marker."""
    if slug == board.default_board:
        return True
    db = base / board.board_db.format(slug=slug)
    return db.exists() or bool(board.board_marker and (db.parent / board.board_marker).exists())
