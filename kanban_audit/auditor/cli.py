"""`kanban-audit audit` and `kanban-audit repair`: options in, library call, output out.

Exit codes (DESIGN.md): audit 0 clean / 1 findings; repair dry run 0 nothing
to do / 1 work to do, --apply 0 all done / 1 some skipped; 2 on any error,
reported as one line on stderr (bad options included), nothing written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from kanban_audit import JSON_VERSION, terminal
from kanban_audit.auditor import discovery, liveness, schedule
from kanban_audit.auditor import guard as guard_mod
from kanban_audit.auditor import history as history_mod
from kanban_audit.auditor import policy as policy_mod
from kanban_audit.auditor import undo as undo_mod
from kanban_audit.auditor.board import BoardError
from kanban_audit.auditor.checks import Options, Report, audit_board
from kanban_audit.auditor.discovery import Found
from kanban_audit.auditor.repair import SKIPPED, Applied, clock_floor, execute
from kanban_audit.auditor.report import (
    audit_json,
    audit_text,
    dumps,
    guard_change_json,
    guard_change_text,
    guard_json,
    guard_text,
    history_text,
    repair_json,
    repair_text,
)
from kanban_audit.auditor.sections import (
    Outcome,
    Section,
    as_json,
    as_text,
    failed,
    gather,
    worst,
)
from kanban_audit.errors import UsageError
from kanban_audit.packneeds import require
from kanban_audit.rulepack import RulePack, load_pack

T = TypeVar("T")

DEFAULT_GRACE_S = 120.0
# Longer than any claim lives: a bigger grace is a typo, not a policy.
MAX_GRACE_S = 10 * 365 * 86400.0
# The last second a four-digit year (and so a backup's name) can carry.
MAX_EPOCH = 253402300799.0
# SQLite keeps its busy timeout in a C int of milliseconds.
MAX_BUSY_TIMEOUT_MS = 2**31 - 1


def error_line(message: str) -> None:
    """The one stderr line every error of these commands ends with (newlines folded, escaped)."""
    click.echo(f"kanban-audit: error: {terminal.printable(' '.join(message.split()))}", err=True)


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
    """The options audit and repair share, resolved: pack, board path, clock, policy.

    `boards` holds every board of --all-boards (name, path); else the one at `path`.
    """

    pack: RulePack
    path: Path
    fmt: str
    grace: float
    now: float
    now_given: bool
    busy_timeout_ms: int
    boards: tuple[Found, ...] = ()
    policy: policy_mod.Policy = policy_mod.Policy()

    def options(self, force: bool = False) -> Options:
        return Options(self.now, self.grace, liveness.local_hostname(), force)


_now_option = click.option(
    "--now",
    type=FiniteFloat(min=0, max=MAX_EPOCH),
    metavar="EPOCH",
    help="Clock for reproducible runs (repair, undo: not before the board's own times).",
)


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
        grace: float | None = None,
        now: float | None = None,
        every_board: bool = False,
        config: str | None = None,
        select: str | None = None,
        ignore: str | None = None,
        **rest: Any,
    ) -> Any:
        policy = policy_mod.load(config, Path.cwd()) if clock else policy_mod.Policy()
        policy = dataclasses.replace(
            policy,
            select=policy_mod.codes(_split(select), "--select") if select else policy.select,
            ignore=(*policy.ignore, *policy_mod.codes(_split(ignore), "--ignore")),
        )
        if grace is None:
            grace = DEFAULT_GRACE_S if policy.grace is None else policy.grace
        if grace > MAX_GRACE_S:
            raise UsageError(f"{policy.source}: grace {grace} is out of range")
        pack = load_pack(rules)
        timeout = pack.board.busy_timeout_ms if busy_timeout is None else busy_timeout
        if not 0 <= timeout <= MAX_BUSY_TIMEOUT_MS:
            raise UsageError(f"rule pack {pack.source}: busy_timeout_ms {timeout} is out of range")
        if every_board and slug is not None:
            raise UsageError("--all-boards and --board name the boards twice; give one")
        if every_board:
            found = discovery.all_boards(pack.board, db, os.environ)
        else:
            found = [discovery.find(pack.board, db, slug, os.environ)]
        args = BoardArgs(
            pack=pack,
            path=found[0].path,
            boards=tuple(found) if every_board else (),
            fmt=fmt,
            grace=grace,
            now=time.time() if now is None else now,
            now_given=now is not None,
            busy_timeout_ms=timeout,
            policy=policy,
        )
        return func(args, **rest)

    clock_options = [
        click.option(
            "--grace",
            type=FiniteFloat(min=0, max=MAX_GRACE_S),
            help="Seconds a claim may outlive its expiry before it counts as expired"
            " (default: the configuration's, else 120).",
        ),
        _now_option,
        click.option("--select", metavar="CODES", help="Comma-separated KD codes to report."),
        click.option("--ignore", metavar="CODES", help="Comma-separated KD codes not to report."),
        click.option(
            "--config",
            type=click.Path(dir_okay=False),
            help="TOML file whose [tool.kanban-audit.audit] applies"
            " (default: the nearest pyproject.toml).",
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


def _split(value: str | None) -> list[str]:
    return value.split(",") if value else []


def _judged(args: BoardArgs, report: Report) -> Report:
    """The report as the policy has it: chosen findings, acknowledged ones known."""
    today = dt.datetime.fromtimestamp(args.now, dt.timezone.utc).date()
    return policy_mod.apply(report, args.policy, today)


def _fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map expected errors to one line on stderr and exit 2, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (UsageError, BoardError) as exc:
            error_line(str(exc))
            sys.exit(2)
        except KeyboardInterrupt:  # before click turns it into "aborted", exit 1
            click.echo("kanban-audit: interrupted", err=True)
            sys.exit(130)

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
        f"kanban-audit: waiting for the board's write lock... ({terminal.printable(str(path))})",
        err=True,
    )


WHICH_BOARD = """\b
Which board (without DB, as Hermes' kanban_db_path() finds it):
  $HERMES_KANBAN_DB    the board file itself
  $HERMES_KANBAN_HOME  the board root; else the root of $HERMES_HOME
                       (a profile home <root>/profiles/NAME shares <root>);
                       else ~/.hermes
  --board SLUG, else $HERMES_KANBAN_BOARD, else <root>/kanban/current,
  else default: <root>/kanban.db or <root>/kanban/boards/SLUG/kanban.db.
A folder given as DB is taken as the root (or a Hermes home) and looked into."""

_every_board = click.option(
    "--all-boards",
    "every_board",
    is_flag=True,
    help="Every board under the root (or the folder DB): one report, a section per board.",
)


def _show(args: BoardArgs, sections: list[Section], style: terminal.Style) -> None:
    """Print one board's report as it always was, or the sections of --all-boards."""
    if not args.boards:
        (only,) = sections
        text = dumps(only.doc) if args.fmt == "json" else only.text
        click.echo(text, color=style.colour)
    elif args.fmt == "json":
        click.echo(dumps(as_json(sections)))
    else:
        click.echo(as_text(sections), color=style.colour)


def _attempt(args: BoardArgs, board: Found, work: Callable[[Found], T]) -> Outcome[T]:
    """`work` on a board: one board's error ends the command; --all-boards keeps it."""
    if not args.boards:
        return Outcome(board, value=work(board))
    return gather((board,), work)[0]


def _one_or_all(args: BoardArgs, work: Callable[[Found], T]) -> list[Outcome[T]]:
    """`work` on the board, or on each board of --all-boards."""
    return [_attempt(args, b, work) for b in args.boards or (Found(None, args.path),)]


def _audit_section(
    done: Outcome[Report], fmt: str, style: terminal.Style, guard_counts: bool = False
) -> Section:
    """One board's audit; with `guard_counts`, a guard not current also makes it exit 1."""
    if done.value is None:
        return failed(done)
    report = done.value
    text = audit_text(report, style) if fmt == "text" else ""
    unguarded = guard_counts and (report.guard is None or not report.guard.current)
    code = 1 if report.findings or unguarded else 0
    return Section(done.board, code, audit_json(report), text)


_metrics_file = click.option(
    "--metrics-file",
    type=click.Path(dir_okay=False),
    help="Also write the run's metrics (Prometheus text format) to this file, atomically.",
)


def _check_metrics_file(path: str | None) -> None:
    """Refuse a metrics file that cannot be written, before any work is done."""
    if path is None:
        return
    folder = Path(path).absolute().parent
    if not folder.is_dir():
        raise UsageError(f"--metrics-file {path}: no such directory {folder}")


def _write_metrics(
    path: str | None, outcomes: list[Outcome[Report]], code: int, now: float
) -> None:
    if path is not None:
        reports = [(str(o.board.path), o.value) for o in outcomes]
        schedule.write_metrics(Path(path), schedule.metrics(reports, code, now))


@click.command(cls=BoardCommand, epilog=WHICH_BOARD)
@_fail_cleanly
@_board_options
@_every_board
@click.option(
    "--fail-on-guard-missing",
    is_flag=True,
    help="Exit 1 also when the guard is missing, partial or outdated.",
)
@_metrics_file
def audit(args: BoardArgs, fail_on_guard_missing: bool, metrics_file: str | None) -> None:
    """Read-only audit of a board: orphaned running tasks and dangling runs.

    Exit 0 clean (acknowledged findings do not count), 1 findings (or, with
    --fail-on-guard-missing, no current guard), 2 error (--all-boards: the
    worst board's).
    """
    require(args.pack, "audit")
    _check_metrics_file(metrics_file)
    style = terminal.for_stream(sys.stdout)
    opts = args.options()
    outcomes = _one_or_all(
        args,
        lambda b: _judged(args, audit_board(b.path, args.pack, opts, args.busy_timeout_ms)),
    )
    sections = [_audit_section(o, args.fmt, style, fail_on_guard_missing) for o in outcomes]
    _show(args, sections, style)
    _write_metrics(metrics_file, outcomes, worst(sections), args.now)
    sys.exit(worst(sections))


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


@click.command(cls=BoardCommand, epilog=WHICH_BOARD)
@_fail_cleanly
@_board_options
@_every_board
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
@click.option(
    "--task",
    "tasks",
    multiple=True,
    metavar="ID",
    help="Repair only this task (repeatable).",
)
@click.option(
    "--keep-backups",
    type=click.IntRange(min=1),
    metavar="N",
    help="After a backup, delete this board's older kanban-audit backups beyond the newest N.",
)
@_metrics_file
def repair(
    args: BoardArgs,
    do_apply: bool,
    yes: bool,
    no_backup: bool,
    backup_dir: str | None,
    force: bool,
    tasks: tuple[str, ...],
    keep_backups: int | None,
    metrics_file: str | None,
) -> None:
    """Demote orphaned running tasks and close dangling runs (dry run unless --apply).

    Exit: dry run 0 nothing to do / 1 work to do; --apply 0 done / 1 some
    skipped; 2 error (nothing written).
    """
    require(args.pack, "repair")
    if backup_dir:
        _check_backup_dir(Path(backup_dir))
    _check_metrics_file(metrics_file)
    if tasks:
        args = dataclasses.replace(args, policy=dataclasses.replace(args.policy, tasks=tasks))
    opts = args.options(force)

    def plan(board: Found) -> Report:
        report = audit_board(board.path, args.pack, opts, args.busy_timeout_ms)
        report = _judged(args, report)
        _check_clock(args, report)
        return report

    plans = _one_or_all(args, plan)
    style = terminal.for_stream(sys.stdout)
    if args.fmt == "text":  # the plan, before any question
        _show(args, [_audit_section(p, "text", style) for p in plans], style)
    planned = [p.value for p in plans if p.value is not None and p.value.planned]
    if do_apply and planned:
        tasks = terminal.plural(sum(len(r.planned) for r in planned), "task")
        where = terminal.plural(len(planned), "board") if args.boards else args.path
        confirm_write(yes, f"Repair {tasks} in {where}?")

    pruned: dict[Found, list[Path]] = {}

    def write(board: Found, report: Report) -> Applied:
        if not do_apply or not report.planned:
            return Applied()
        done = execute(
            board.path,
            args.pack,
            report,
            busy_timeout_ms=args.busy_timeout_ms,
            now=opts.now,
            backup_dir=Path(backup_dir) if backup_dir else None,
            make_backup=not no_backup,
            on_lock_wait=lock_notice(board.path),
        )
        if keep_backups is not None and done.backup is not None:
            folder = Path(backup_dir) if backup_dir else board.path.parent
            pruned[board] = schedule.prune(folder, board.path, keep_backups, done.backup)
        return done

    sections = []
    interrupted = False
    for p in plans:
        report = p.value
        work = functools.partial(write, report=report)
        done = p if report is None else _attempt(args, p.board, work)
        if report is None or done.value is None:
            sections.append(failed(done))
            continue
        interrupted = done.value.interrupted
        code = _repair_exit(report, do_apply, done.value)
        removed = pruned.get(p.board, [])
        text = repair_text(report, do_apply, done.value, style)
        text += "".join(
            f"\nremoved old backup: {terminal.printable(str(path))}" for path in removed
        )
        doc = repair_json(report, do_apply, done.value)
        doc["backups_removed"] = [str(path) for path in removed]
        sections.append(Section(p.board, code, doc, text))
        if interrupted:  # the boards after it are left as they are
            break
    _show(args, sections, style)
    if interrupted:
        click.echo("kanban-audit: interrupted; the report above is what the board shows", err=True)
        sys.exit(130)
    _write_metrics(metrics_file, plans, worst(sections), args.now)
    sys.exit(worst(sections))


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
    _guard_write(args, "install", guard_mod.install)


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
        click.echo(f"{terminal.printable(str(args.path))}: guard {guard_text(state)}")
    sys.exit(0 if state.current else 1)


@guard.command("remove", cls=BoardCommand)
@_fail_cleanly
@_guard_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def guard_remove(args: BoardArgs, yes: bool) -> None:
    """Drop the tool's own triggers, any version (idempotent).

    Exit 0 removed or not installed, 2 error (nothing written).
    """
    before = guard_mod.inspect(args.path, args.pack, args.busy_timeout_ms)
    if before.found:
        confirm_write(yes, f"Remove the kanban-audit guard from {args.path}?")
    _guard_write(args, "remove", guard_mod.remove)


def _guard_write(
    args: BoardArgs, command: str, write: Callable[[Path, RulePack, int], guard_mod.Change]
) -> None:
    """Install or remove, and say what was done.

    An interrupt can land after the COMMIT went through, so it is answered
    with what the board holds now, read back, and exit 130.
    """
    try:
        change = write(args.path, args.pack, args.busy_timeout_ms)
    except KeyboardInterrupt:
        try:
            now = guard_text(guard_mod.inspect(args.path, args.pack, args.busy_timeout_ms))
        except BoardError:
            now = "unknown (kanban-audit guard status tells)"
        click.echo(f"kanban-audit: interrupted; the board's guard is now {now}", err=True)
        sys.exit(130)
    if args.fmt == "json":
        click.echo(dumps(guard_change_json(args.path, change)))
    else:
        click.echo(guard_change_text(args.path, command, change))


@click.command(cls=BoardCommand, epilog=WHICH_BOARD)
@click.argument("task")
@_fail_cleanly
@_guard_options
@click.option("--event", type=click.IntRange(min=1), metavar="ID", help="The repair event to undo.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_now_option
def undo(args: BoardArgs, task: str, event: int | None, yes: bool) -> None:
    """Put one repaired task back as it was before its repair (from its event).

    Only if nothing moved the task or its runs since; one transaction, and an
    event records the undo. Exit 0 undone, 1 refused (nothing written), 2 error.
    """
    planned = undo_mod.inspect(args.path, args.pack, args.busy_timeout_ms, task, event)
    repaired_at = planned.repair.at
    if repaired_at is not None and int(args.now) < repaired_at:
        clock = "--now" if args.now_given else "this host's clock"
        raise UsageError(
            f"{clock} {int(args.now)} is older than repair #{planned.repair.event_id}"
            f" of task {task!r} (created_at = {repaired_at});"
            " an undo would record history that runs backwards"
        )
    if args.fmt == "text":
        click.echo(undo_mod.describe(planned, args.pack))
    confirm_write(yes, f"Undo the repair of task {task} in {args.path}?")
    done = undo_mod.undo(
        args.path,
        args.pack,
        args.busy_timeout_ms,
        task,
        args.now,
        event,
        on_lock_wait=lock_notice(args.path),
    )
    if args.fmt == "json":
        doc = {"version": JSON_VERSION, "db": str(args.path), **done.as_dict()}
        click.echo(dumps(doc))
    else:
        click.echo(f"{done.result} {done.task_id}: {done.detail}")
    sys.exit(0 if done.result == undo_mod.UNDONE else 1)


@click.command(cls=BoardCommand, epilog=WHICH_BOARD)
@_fail_cleanly
@_guard_options
@click.option("--task", metavar="ID", help="Only this task's repairs and undos.")
def history(args: BoardArgs, task: str | None) -> None:
    """List the repairs and undos kanban-audit made on a board, oldest first (read-only)."""
    entries = history_mod.history(args.path, args.pack, args.busy_timeout_ms, task)
    if args.fmt == "json":
        doc = {
            "version": JSON_VERSION,
            "db": str(args.path),
            "entries": [e.as_dict() for e in entries],
        }
        click.echo(dumps(doc))
        return
    style = terminal.for_stream(sys.stdout)
    click.echo(history_text(entries, style), color=style.colour)
