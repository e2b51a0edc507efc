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

from kanban_audit import terminal
from kanban_audit.audit import liveness
from kanban_audit.audit.board import BoardError, locate
from kanban_audit.audit.checks import Options, Report, audit_board
from kanban_audit.audit.repair import SKIPPED, Applied, clock_floor, execute
from kanban_audit.audit.report import audit_json, audit_text, dumps, repair_json, repair_text
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
    now_given: bool
    busy_timeout_ms: int

    def options(self, force: bool = False) -> Options:
        return Options(self.now, self.grace, liveness.local_hostname(), force)


def _board_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the shared options and hand the command one resolved BoardArgs."""

    @functools.wraps(func)
    def wrapper(
        db: str | None,
        slug: str | None,
        rules: str | None,
        fmt: str,
        grace: float,
        now: float | None,
        busy_timeout: int | None,
        **rest: Any,
    ) -> Any:
        pack = load_pack(rules)
        args = BoardArgs(
            pack=pack,
            path=locate(pack.board, db, slug, os.environ),
            fmt=fmt,
            grace=grace,
            now=time.time() if now is None else now,
            now_given=now is not None,
            busy_timeout_ms=pack.board.busy_timeout_ms if busy_timeout is None else busy_timeout,
        )
        return func(args, **rest)

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
        click.option(
            "--grace",
            type=click.FloatRange(min=0),
            default=DEFAULT_GRACE_S,
            show_default=True,
            help="Seconds a fresh claim may lack a worker PID or outlive its expiry.",
        ),
        click.option(
            "--now",
            type=float,
            metavar="EPOCH",
            help="Clock for reproducible runs (repair: not before the board's own times).",
        ),
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


@click.command()
@_fail_cleanly
@_board_options
def audit(args: BoardArgs) -> None:
    """Read-only audit of a board: orphaned running tasks and dangling runs.

    Exit 0 clean, 1 findings, 2 error.
    """
    report = audit_board(args.path, args.pack, args.options(), args.busy_timeout_ms)
    if args.fmt == "json":
        click.echo(dumps(audit_json(report)))
    else:
        style = terminal.for_stream(sys.stdout)
        click.echo(audit_text(report, style), color=style.colour)
    sys.exit(1 if report.findings else 0)


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


@click.command()
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
