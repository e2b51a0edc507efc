"""The library: lint code, audit a board, repair it. The CLI is wiring over these.

    >>> import kanban_audit
    >>> result = kanban_audit.lint(["examples/board_service"])
    >>> [(f.code, f.path, f.line) for f in result.findings]
    [('KA001', 'examples/board_service/board/api.py', 18), ...]

Every function raises `kanban_audit.KanbanAuditError` (one line, for the
user) on bad input; nothing else is expected to escape.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kanban_audit.config import load_config
from kanban_audit.packneeds import require
from kanban_audit.rulepack import RulePack, load_pack

DEFAULT_GRACE_S = 120.0
CACHE_FOLDER = ".kanban-audit-cache"
# What marks a folder as a cache (https://bford.info/cachedir/), written by the cache.


def _pack(pack: RulePack | str | Path | None, fallback: Path | None = None) -> RulePack:
    return pack if isinstance(pack, RulePack) else load_pack(pack or fallback)


def lint(
    paths: Iterable[str | Path] = (),
    *,
    pack: RulePack | str | Path | None = None,
    config: str | Path | None = None,
    isolated: bool = False,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    jobs: int = 0,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    prefilter: bool = True,
    only: Iterable[str | Path] | None = None,
    diff: str | None = None,
    baseline: str | Path | None = None,
    cwd: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    respect_gitignore: bool | None = None,
) -> Any:
    """Lint `paths` (default: the current directory) and return a `LintResult`.

    Configuration comes from the nearest `pyproject.toml` (or `config`; none
    at all when `isolated`); `pack` overrides its rule pack. `only` (changed
    files) and `diff` (a git revision) analyse the whole project and keep the
    findings whose trace touches those files. `baseline` drops the findings a baseline file holds.
    `respect_gitignore` (default: the config's, true) skips what git ignores.
    """
    from kanban_audit.config import Config
    from kanban_audit.linter.cache import check_folder
    from kanban_audit.linter.run import LintOptions
    from kanban_audit.linter.run import lint as run

    here = Path(cwd).absolute() if cwd is not None else Path.cwd()
    if isolated:
        cfg = Config(root=here)
    else:
        cfg = load_config(here, Path(config) if config is not None else None)
    rules = _pack(pack, cfg.rules)
    known = None
    if baseline is not None:
        from kanban_audit.linter.baseline import load_baseline

        known = load_baseline(baseline)  # fail fast, before the analysis
    targets = [here / p for p in paths] or [here]
    wanted: list[Path] | None = None
    if only is not None or diff is not None:
        wanted = [here / p for p in only or ()]
        if diff is not None:
            from kanban_audit.linter.changed import changed_since

            wanted += changed_since(diff, here)
        # The changed files are named, as on the command line: analysed whatever
        # .gitignore or the excludes say (a change can list itself there).
        targets = [cfg.root, *_regular_files(wanted)]
    folder = None
    if cache:
        folder = Path(cache_dir) if cache_dir is not None else cfg.cache_dir
        folder = check_folder(here / (folder or cfg.root / CACHE_FOLDER))
    result = run(
        LintOptions(
            paths=targets,
            pack=rules,
            config=cfg,
            select=_codes(select),
            ignore=_codes(ignore),
            jobs=jobs,
            cache_dir=folder,
            only=wanted,
            prefilter=prefilter,
            progress=progress,
            cwd=here,
            respect_gitignore=(
                cfg.respect_gitignore if respect_gitignore is None else respect_gitignore
            ),
        )
    )
    if known is not None:
        from kanban_audit.linter.baseline import filter_new

        result.findings = filter_new(result.findings, known)
    return result


def _regular_files(paths: list[Path]) -> list[Path]:
    """The paths that are regular files (not links, not gone), normalised."""
    kept = []
    for path in paths:
        normal = Path(os.path.normpath(path))
        try:
            if stat.S_ISREG(os.lstat(normal).st_mode):
                kept.append(normal)
        except OSError:
            continue
    return kept


def _codes(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(v.strip().upper() for v in values if v.strip())


@dataclass(frozen=True)
class Board:
    """Where a board is and how to treat it: resolved once for audit, repair and guard."""

    path: Path
    pack: RulePack
    busy_timeout_ms: int
    slug: str | None = None


def board(
    db: str | Path | None = None,
    *,
    slug: str | None = None,
    pack: RulePack | str | Path | None = None,
    busy_timeout_ms: int | None = None,
) -> Board:
    """Find the board the way the board's own code does (path, environment, slug)."""
    from kanban_audit.auditor.discovery import find

    rules = _pack(pack)
    found = find(rules.board, str(db) if db is not None else None, slug, os.environ)
    timeout = rules.board.busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
    return Board(found.path, rules, timeout, found.slug)


def boards(
    root: str | Path | None = None,
    *,
    pack: RulePack | str | Path | None = None,
    busy_timeout_ms: int | None = None,
) -> list[Board]:
    """Every board with a DB file under the board root (or the folder `root`), default first."""
    from kanban_audit.auditor.discovery import all_boards

    rules = _pack(pack)
    timeout = rules.board.busy_timeout_ms if busy_timeout_ms is None else busy_timeout_ms
    found = all_boards(rules.board, str(root) if root is not None else None, os.environ)
    return [Board(f.path, rules, timeout, f.slug) for f in found]


def audit(
    db: str | Path | Board | None = None,
    *,
    slug: str | None = None,
    pack: RulePack | str | Path | None = None,
    now: float | None = None,
    grace: float = DEFAULT_GRACE_S,
    busy_timeout_ms: int | None = None,
    force: bool = False,
    policy: Any = None,
) -> Any:
    """Audit a board read-only and return its `Report` (findings with evidence).

    `policy` (`kanban_audit.auditor.policy.Policy`, or `load_policy()`'s) keeps
    the findings it selects and moves acknowledged ones to `report.known`.
    """
    import datetime as dt

    from kanban_audit.auditor import liveness
    from kanban_audit.auditor.checks import Options, audit_board
    from kanban_audit.auditor.policy import apply

    where = (
        db
        if isinstance(db, Board)
        else board(db, slug=slug, pack=pack, busy_timeout_ms=busy_timeout_ms)
    )
    require(where.pack, "audit")
    options = Options(time.time() if now is None else now, grace, liveness.local_hostname(), force)
    report = audit_board(where.path, where.pack, options, where.busy_timeout_ms)
    if policy is None:
        return report
    return apply(report, policy, dt.datetime.fromtimestamp(options.now, dt.timezone.utc).date())


def load_policy(config: str | Path | None = None, cwd: str | Path | None = None) -> Any:
    """The auditor's `[tool.kanban-audit.audit]` (of `config`, else the nearest pyproject.toml)."""
    from kanban_audit.auditor.policy import load

    return load(config, Path(cwd) if cwd is not None else Path.cwd())


@dataclass(frozen=True)
class RepairResult:
    """The plan a repair followed, whether it wrote, the backup, each task's outcome, and
    why it stopped early (a lock met after the first write), if it did."""

    report: Any
    applied: bool
    backup: Path | None = None
    outcomes: tuple[Any, ...] = ()
    stopped: str | None = None


def repair(
    db: str | Path | Board | None = None,
    *,
    slug: str | None = None,
    pack: RulePack | str | Path | None = None,
    apply: bool = False,
    backup: bool = True,
    backup_dir: str | Path | None = None,
    force: bool = False,
    now: float | None = None,
    grace: float = DEFAULT_GRACE_S,
    busy_timeout_ms: int | None = None,
    plan: Any = None,
    policy: Any = None,
) -> RepairResult:
    """Plan the repairs (an audit) and, with `apply`, carry them out.

    `plan` is a report from `audit()` to follow instead of auditing again (the
    CLI shows it, asks, then applies exactly what was shown); `policy` chooses
    the findings as for `audit()` (its `tasks` limit the repair to those tasks).
    """
    from kanban_audit.auditor.repair import execute

    where = (
        db
        if isinstance(db, Board)
        else board(db, slug=slug, pack=pack, busy_timeout_ms=busy_timeout_ms)
    )
    require(where.pack, "repair")
    if plan is None:
        plan = audit(where, now=now, grace=grace, force=force, policy=policy)
    if not apply:
        return RepairResult(plan, False)
    done = execute(
        where.path,
        where.pack,
        plan,
        busy_timeout_ms=where.busy_timeout_ms,
        now=plan.checked_at,
        backup_dir=Path(backup_dir) if backup_dir is not None else None,
        make_backup=backup,
    )
    return RepairResult(plan, True, done.backup, done.outcomes, done.stopped)


def history(
    db: str | Path | Board | None = None, *, task: str | None = None, **where: Any
) -> list[Any]:
    """The tool's repairs and undos on a board, oldest first (`history.Entry` each)."""
    from kanban_audit.auditor.history import history as read

    b = db if isinstance(db, Board) else board(db, **where)
    return read(b.path, b.pack, b.busy_timeout_ms, task)


def undo(
    task: str,
    db: str | Path | Board | None = None,
    *,
    event: int | None = None,
    now: float | None = None,
    **where: Any,
) -> Any:
    """Undo the task's latest repair (or `event`) if nothing moved it since; an `undo.Result`."""
    from kanban_audit.auditor.undo import undo as run

    b = db if isinstance(db, Board) else board(db, **where)
    return run(b.path, b.pack, b.busy_timeout_ms, task, time.time() if now is None else now, event)
