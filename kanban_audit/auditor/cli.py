"""`kanban-audit audit` and `kanban-audit repair`: options in, library call, output out.

Exit codes (DESIGN.md): audit 0 clean / 1 findings; repair dry run 0 nothing
to do / 1 work to do, --apply 0 all done / 1 some skipped; 2 on any error,
reported as one line on stderr (bad options included), nothing written.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from kanban_audit import terminal
from kanban_audit.auditor import guard as guard_mod
from kanban_audit.auditor import liveness
from kanban_audit.auditor.board import BoardError, locate
from kanban_audit.auditor.checks import Options, Report, audit_board
from kanban_audit.auditor.repair import SKIPPED, Applied, clock_floor, execute
from kanban_audit.auditor.report import (
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
from kanban_audit.packneeds import require
from kanban_audit.rulepack import RulePack, load_pack

DEFAULT_GRACE_S = 120.0
# Longer than any claim lives: a bigger grace is a typo, not a policy.
MAX_GRACE_S = 10 * 365 * 86400.0
# The last second a four-digit year (and so a backup's name) can carry.
MAX_EPOCH = 253402300799.0
# SQLite keeps its busy timeout in a C int of milliseconds.
MAX_BUSY_TIMEOUT_MS = 2**31 - 1


def error_line(message: str) -> None:
    """The one stderr line every error of these commands ends with (newlines folded)."""
    click.echo(f"kanban-audit: error: {' '.join(message.split())}", err=True)


class _OneLineUsageError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        error_line(self.format_message())


class BoardCommand(click.Command):
    """A command whose bad options end like its other errors: one line, exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _OneLineUsageError(exc.format_message()) from None


class FiniteFloat(click.FloatRange):
    """A float range that also refuses NaN and infinities (a range test lets NaN through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


@dataclass(frozen=True)
class BoardArgs:
    """The options audit and repair share, resolved: pack, board path, clock, policy."""

    pack: RulePack
    path: Path
    fmt: str
    grace: float
    now: float
    now_given: bool
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
        timeout = pack.board.busy_timeout_ms if busy_timeout is None else busy_timeout
        if not 0 <= timeout <= MAX_BUSY_TIMEOUT_MS:
            raise UsageError(f"rule pack {pack.source}: busy_timeout_ms {timeout} is out of range")
        args = BoardArgs(
            pack=pack,
            path=locate(pack.board, db, slug, os.environ),
            fmt=fmt,
            grace=grace,
            now=time.time() if now is None else now,
            now_given=now is not None,
            busy_timeout_ms=timeout,
        )
        return func(args, **rest)

    clock_options = [
        click.option(
            "--grace",
            type=FiniteFloat(min=0, max=MAX_GRACE_S),
            default=DEFAULT_GRACE_S,
            show_default=True,
            help="Seconds a fresh claim may lack a worker PID or outlive its expiry.",
        ),
        click.option(
            "--now",
            type=FiniteFloat(min=0, max=MAX_EPOCH),
            metavar="EPOCH",
            help="Clock for reproducible runs (repair: not before the board's own times).",
        ),
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
            type=click.IntRange(min=0, max=MAX_BUSY_TIMEOUT_MS),
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
            error_line(str(exc))
            sys.exit(2)

    return wrapper


def confirm_write(yes: bool, question: str) -> None:
    """Ask before a write, by the policy of `terminal.confirmation`.

    `--yes` goes ahead; a terminal on stdin is asked (a "no" aborts); with
    nobody to ask, the write is refused (UsageError: exit 2, one line).
    """
    decision = terminal.confirmation(yes, sys.stdin.isatty())
    if decision == terminal.REFUSE:
        raise UsageError("refusing to write: no terminal to confirm on; pass --yes")
    if decision == terminal.ASK:
        click.confirm(question, abort=True, err=True)


def lock_notice(path: Path) -> Callable[[], None] | None:
    """What to call when a wait for the write lock passes a second: a line on a terminal."""
    if not sys.stderr.isatty():
        return None
    return lambda: click.echo(
        f"kanban-audit: waiting for the board's write lock... ({path})", err=True
    )


@click.command(cls=BoardCommand)
@_fail_cleanly
@_board_options
def audit(args: BoardArgs) -> None:
    """Read-only audit of a board: orphaned running tasks and dangling runs.

    Exit 0 clean, 1 findings, 2 error.
    """
    require(args.pack, "audit")
    report = audit_board(args.path, args.pack, args.options(), args.busy_timeout_ms)
    if args.fmt == "json":
        click.echo(dumps(audit_json(report)))
    else:
        style = terminal.for_stream(sys.stdout)
        click.echo(audit_text(report, style), color=style.colour)
    sys.exit(1 if report.findings else 0)


def _check_backup_dir(folder: Path) -> None:
    """Refuse a backup folder that cannot be made or written, before anything is read."""
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise UsageError(f"--backup-dir: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--backup-dir: {existing} is not writable")


def _check_clock(args: BoardArgs, report: Report) -> None:
    """Refuse a repair clock older than the evidence it writes after (see clock_floor)."""
    floor = clock_floor(report)
    if floor is None or int(args.now) >= floor[0]:
        return
    at, what, task = floor
    clock = "--now" if args.now_given else "this host's clock"
    raise UsageError(
        f"{clock} {int(args.now)} is older than task {task!r}: {what} = {int(at)};"
        " a repair would record history that runs backwards"
    )


@click.command(cls=BoardCommand)
@_fail_cleanly
@_board_options
@click.option("--apply", "do_apply", is_flag=True, help="Write the repairs (default: dry run).")
@click.option(
    "--yes", is_flag=True, help="Write without asking (needed when stdin is no terminal)."
)
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
    require(args.pack, "repair")
    if backup_dir:
        _check_backup_dir(Path(backup_dir))
    opts = args.options(force)
    report = audit_board(args.path, args.pack, opts, args.busy_timeout_ms)
    _check_clock(args, report)
    style = terminal.for_stream(sys.stdout)
    if args.fmt == "text":
        click.echo(audit_text(report, style), color=style.colour)
    done = Applied()
    if do_apply and report.planned:
        tasks = terminal.plural(len(report.planned), "task")
        confirm_write(yes, f"Repair {tasks} in {args.path}?")
        done = execute(
            args.path,
            args.pack,
            report,
            busy_timeout_ms=args.busy_timeout_ms,
            now=opts.now,
            backup_dir=Path(backup_dir) if backup_dir else None,
            make_backup=not no_backup,
            on_lock_wait=lock_notice(args.path),
        )
    if args.fmt == "json":
        click.echo(dumps(repair_json(report, do_apply, done)))
    else:
        click.echo(repair_text(report, do_apply, done, style), color=style.colour)
    sys.exit(_repair_exit(report, do_apply, done))


def _repair_exit(report: Report, applied: bool, done: Applied) -> int:
    if not applied:
        return 1 if report.planned else 0
    return 1 if any(o.result == SKIPPED for o in done.outcomes) else 0


_guard_options = functools.partial(_board_options, clock=False)


@click.group()
def guard() -> None:
    """Triggers that make the board refuse a write into running without a claim."""


@guard.command("install", cls=BoardCommand)
@_fail_cleanly
@_guard_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def guard_install(args: BoardArgs, yes: bool) -> None:
    """Install the guard's triggers (idempotent).

    Exit 0 installed or already current, 2 error (nothing written).
    """
    require(args.pack, "guard")
    before = guard_mod.inspect(args.path, args.pack, args.busy_timeout_ms)
    if before.state == guard_mod.UNAVAILABLE:
        raise BoardError(f"cannot guard {args.path}: {before.differences[0]}")
    if not before.current:
        confirm_write(yes, f"Install the kanban-audit guard in {args.path}?")
    change = guard_mod.install(args.path, args.pack, args.busy_timeout_ms)
    _echo_change(args, "install", change)


@guard.command("status", cls=BoardCommand)
@_fail_cleanly
@_guard_options
def guard_status(args: BoardArgs) -> None:
    """Is the guard installed and current?

    Exit 0 installed and current, 1 missing, partial or outdated, 2 error.
    """
    require(args.pack, "guard")
    state = guard_mod.inspect(args.path, args.pack, args.busy_timeout_ms)
    if state.state == guard_mod.UNAVAILABLE:
        raise BoardError(f"cannot guard {args.path}: {state.differences[0]}")
    if args.fmt == "json":
        click.echo(dumps(guard_json(args.path, state)))
    else:
        click.echo(f"{args.path}: guard {guard_text(state)}")
    sys.exit(0 if state.current else 1)


@guard.command("remove", cls=BoardCommand)
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
