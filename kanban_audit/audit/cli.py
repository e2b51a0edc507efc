"""`kanban-audit audit` and `kanban-audit repair`: options in, library call, output out.

Exit codes (DESIGN.md): audit 0 clean / 1 findings; repair dry run 0 nothing
to do / 1 work to do, --apply 0 all done / 1 some skipped; 2 on any error,
reported as one line on stderr.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from kanban_audit.audit import guard as guard_mod
from kanban_audit.audit import liveness
from kanban_audit.audit.board import BoardError, locate
from kanban_audit.audit.checks import Options, Report, audit_board
from kanban_audit.audit.repair import SKIPPED, execute
from kanban_audit.audit.report import (
    audit_json,
    audit_text,
    dumps,
    guard_change_json,
    guard_change_text,
    guard_json,
    guard_text,
    repair_json,
    repair_text,
)
from kanban_audit.errors import UsageError
from kanban_audit.rulepack import RulePack, load_pack

DEFAULT_GRACE_S = 120.0


@dataclass(frozen=True)
class BoardArgs:
    """The options audit and repair share, resolved: pack, board path, clock, policy."""

    pack: RulePack
    path: Path
    fmt: str
    grace: float
    now: float
    busy_timeout_ms: int

    def options(self, force: bool = False) -> Options:
        return Options(self.now, self.grace, liveness.local_hostname(), force)


def _board_options(func: Callable[..., Any], clock: bool = True) -> Callable[..., Any]:
    """Add the shared options and hand the command one resolved BoardArgs.

    Without `clock` (commands that judge no task), --grace and --now are left out.
    """

    @functools.wraps(func)
    def wrapper(
        db: str | None,
        slug: str | None,
        rules: str | None,
        fmt: str,
        busy_timeout: int | None,
        grace: float = DEFAULT_GRACE_S,
        now: float | None = None,
        **rest: Any,
    ) -> Any:
        pack = load_pack(rules)
        args = BoardArgs(
            pack=pack,
            path=locate(pack.board, db, slug, os.environ),
            fmt=fmt,
            grace=grace,
            now=time.time() if now is None else now,
            busy_timeout_ms=pack.board.busy_timeout_ms if busy_timeout is None else busy_timeout,
        )
        return func(args, **rest)

    clock_options = [
        click.option(
            "--grace",
            type=click.FloatRange(min=0),
            default=DEFAULT_GRACE_S,
            show_default=True,
            help="Seconds a fresh claim may lack a worker PID or outlive its expiry.",
        ),
        click.option("--now", type=float, metavar="EPOCH", help="Clock for reproducible runs."),
    ]
    options = [
        click.argument("db", required=False, type=click.Path(dir_okay=True)),
        click.option("--board", "slug", metavar="SLUG", help="Board name (default: current)."),
        click.option("--rules", type=click.Path(), help="Rule pack (default: bundled hermes)."),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
        ),
        *(clock_options if clock else []),
        click.option(
            "--busy-timeout",
            type=click.IntRange(min=0),
            metavar="MS",
            help="How long to wait for a lock (default: the pack's, 120000).",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map expected errors to one line on stderr and exit 2, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (UsageError, BoardError) as exc:
            click.echo(f"kanban-audit: error: {exc}", err=True)
            sys.exit(2)

    return wrapper


@click.command()
@_fail_cleanly
@_board_options
def audit(args: BoardArgs) -> None:
    """Read-only audit of a board: orphaned running tasks and dangling runs.

    Exit 0 clean, 1 findings, 2 error.
    """
    report = audit_board(args.path, args.pack, args.options(), args.busy_timeout_ms)
    click.echo(dumps(audit_json(report)) if args.fmt == "json" else audit_text(report))
    sys.exit(1 if report.findings else 0)


@click.command()
@_fail_cleanly
@_board_options
@click.option("--apply", "do_apply", is_flag=True, help="Write the repairs (default: dry run).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation on a terminal.")
@click.option("--no-backup", is_flag=True, help="Skip the online backup before writing.")
@click.option(
    "--backup-dir",
    type=click.Path(file_okay=False),
    help="Where the backup goes (default: beside the board).",
)
@click.option("--force", is_flag=True, help="Also demote tasks whose worker may be alive.")
def repair(
    args: BoardArgs, do_apply: bool, yes: bool, no_backup: bool, backup_dir: str | None, force: bool
) -> None:
    """Demote orphaned running tasks and close dangling runs (dry run unless --apply).

    Exit: dry run 0 nothing to do / 1 work to do; --apply 0 done / 1 some
    skipped; 2 error (nothing written).
    """
    opts = args.options(force)
    report = audit_board(args.path, args.pack, opts, args.busy_timeout_ms)
    if args.fmt == "text":
        click.echo(audit_text(report))
    if do_apply and report.planned and not yes and _interactive():
        click.confirm(f"Repair {len(report.planned)} tasks in {args.path}?", abort=True, err=True)
    saved, outcomes = None, ()
    if do_apply:
        saved, outcomes = execute(
            args.path,
            args.pack,
            report,
            busy_timeout_ms=args.busy_timeout_ms,
            now=opts.now,
            backup_dir=Path(backup_dir) if backup_dir else None,
            make_backup=not no_backup,
        )
    if args.fmt == "json":
        click.echo(dumps(repair_json(report, do_apply, saved, outcomes)))
    else:
        click.echo(repair_text(report, do_apply, saved, outcomes))
    sys.exit(_repair_exit(report, do_apply, outcomes))


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _repair_exit(report: Report, applied: bool, outcomes: tuple[Any, ...]) -> int:
    if not applied:
        return 1 if report.planned else 0
    return 1 if any(o.result == SKIPPED for o in outcomes) else 0


_guard_options = functools.partial(_board_options, clock=False)


def _confirm(question: str, yes: bool) -> None:
    """Ask on a terminal unless --yes; with no terminal to ask on, only --yes confirms."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("not confirmed: no terminal to ask on; pass --yes to write")
    click.confirm(question, abort=True, err=True)


@click.group()
def guard() -> None:
    """Triggers that make the board refuse a write into running without a claim."""


@guard.command("install")
@_fail_cleanly
@_guard_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def guard_install(args: BoardArgs, yes: bool) -> None:
    """Install the guard's triggers (idempotent).

    Exit 0 installed or already current, 2 error (nothing written).
    """
    before = guard_mod.inspect(args.path, args.pack, args.busy_timeout_ms)
    if before.state == guard_mod.UNAVAILABLE:
        raise BoardError(f"cannot guard {args.path}: {before.differences[0]}")
    if not before.current:
        _confirm(f"Install the kanban-audit guard in {args.path}?", yes)
    change = guard_mod.install(args.path, args.pack, args.busy_timeout_ms)
    _echo_change(args, "install", change)


@guard.command("status")
@_fail_cleanly
@_guard_options
def guard_status(args: BoardArgs) -> None:
    """Is the guard installed and current?

    Exit 0 installed and current, 1 missing, partial or outdated, 2 error.
    """
    state = guard_mod.inspect(args.path, args.pack, args.busy_timeout_ms)
    if state.state == guard_mod.UNAVAILABLE:
        raise BoardError(f"cannot guard {args.path}: {state.differences[0]}")
    if args.fmt == "json":
        click.echo(dumps(guard_json(args.path, state)))
    else:
        click.echo(f"{args.path}: guard {guard_text(state)}")
    sys.exit(0 if state.current else 1)


@guard.command("remove")
@_fail_cleanly
@_guard_options
def guard_remove(args: BoardArgs) -> None:
    """Drop the tool's own triggers, any version (idempotent). Exit 0, 2 on error."""
    _echo_change(args, "remove", guard_mod.remove(args.path, args.pack, args.busy_timeout_ms))


def _echo_change(args: BoardArgs, command: str, change: guard_mod.Change) -> None:
    if args.fmt == "json":
        click.echo(dumps(guard_change_json(args.path, change)))
    else:
        click.echo(guard_change_text(args.path, command, change))
