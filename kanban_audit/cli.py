"""The kanban-audit command line: a thin click layer over the library (api.py).

Every expected failure leaves through one path: `main()` prints one line on
stderr and exits 2 (Ctrl-C: 130, as a shell reports SIGINT). Commands return
their exit code. Texts that may come from the analysed tree (paths, warnings,
error messages) are printed through `terminal.printable`.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from kanban_audit import __version__
from kanban_audit.errors import KanbanAuditError, UsageError
from kanban_audit.terminal import printable

FORMATS = ("text", "json", "sarif", "github")
# More workers than this only costs memory: each one is a forked process.
MAX_JOBS = 256
# What a shell reports for a command ended by SIGINT (128 + 2).
INTERRUPTED = 130


class Interrupted(Exception):
    """Ctrl-C in a command, carried past click, which would turn it into an Abort
    (a "no" to a question: exit 1) and print an empty line first."""


class LazyGroup(click.Group):
    """Subcommands imported on first use: `lint` never pays for the auditor's imports."""

    lazy = {
        "audit": "kanban_audit.auditor.cli:audit",
        "repair": "kanban_audit.auditor.cli:repair",
        "guard": "kanban_audit.auditor.cli:guard",
        "undo": "kanban_audit.auditor.cli:undo",
        "history": "kanban_audit.auditor.cli:history",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, name = self.lazy[cmd_name].split(":")
            return getattr(importlib.import_module(module), name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted from None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kanban-audit")
def cli() -> None:
    """Only the claim path may put a task into running: lint the code, audit the board."""


def main(args: list[str] | None = None) -> NoReturn:
    """The console entry point: run a command, map every failure to one line and exit 2."""
    try:
        code = cli.main(args, prog_name="kanban-audit", standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(exc.format_message() + hint)
    except (Interrupted, KeyboardInterrupt):
        _interrupted()
    except click.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            _interrupted()  # Ctrl-C at a question, or while click parsed the options
        click.echo("kanban-audit: aborted, nothing written", err=True)  # a "no"
        sys.exit(2)
    except KanbanAuditError as exc:
        _fail(str(exc))
    except click.ClickException as exc:
        _fail(exc.format_message())
    except Exception as exc:  # a bug: one line unless asked for the traceback
        if os.environ.get("KANBAN_AUDIT_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set KANBAN_AUDIT_DEBUG=1 for details)")
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str) -> NoReturn:
    # One line: a newline (in a path named by the tree, say) is shown escaped.
    click.echo(f"kanban-audit: error: {printable(message.strip()) or 'failed'}", err=True)
    sys.exit(2)


def _interrupted() -> NoReturn:
    """One line, no traceback, exit 130; on a terminal it starts below the `^C` echo."""
    start = "\n" if sys.stderr.isatty() else ""
    click.echo(f"{start}kanban-audit: interrupted", err=True)
    sys.exit(INTERRUPTED)


def _codes(value: str | None) -> list[str]:
    return value.split(",") if value else []


def _check_output(path: Path | None, option: str) -> None:
    """Refuse an output file that cannot be written, before any work is done."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory")
    if not path.absolute().parent.is_dir():
        raise UsageError(f"{option} {path}: no such directory {path.absolute().parent}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--rules", type=click.Path(path_type=Path), help="Rule pack (TOML).")
@click.option("--config", type=click.Path(path_type=Path), help="pyproject.toml to read.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--select", help="Comma-separated codes or prefixes to report.")
@click.option("--ignore", help="Comma-separated codes or prefixes not to report.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--baseline", type=click.Path(path_type=Path), help="Report only findings not in this baseline."
)
@click.option(
    "--write-baseline", type=click.Path(path_type=Path), help="Record current findings and exit 0."
)
@click.option(
    "--only-changed",
    is_flag=True,
    help="PATHS are changed files: analyse the whole project, report findings touching them.",
)
@click.option(
    "--diff", "diff_rev", metavar="REV", help="Report findings touching files changed since REV."
)
@click.option(
    "--cache-dir", type=click.Path(path_type=Path), help="Where per-file summaries are cached."
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option(
    "--no-prefilter",
    is_flag=True,
    help="Parse every file, even those that cannot matter (slow; for checking the tool).",
)
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=None,
    help="Skip files git ignores (.gitignore, .git/info/exclude). Default: on.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0, max=MAX_JOBS),
    default=0,
    help="Worker processes (0: all cores).",
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report to a file.")
@click.option("--quiet", "-q", is_flag=True, help="Only the findings: no summary, no warnings.")
@click.option("--statistics", is_flag=True, help="Counts per code instead of the findings (text).")
def lint(
    paths: tuple[Path, ...],
    fmt: str,
    rules: Path | None,
    config: Path | None,
    isolated: bool,
    select: str | None,
    ignore: str | None,
    exit_zero: bool,
    baseline: Path | None,
    write_baseline: Path | None,
    only_changed: bool,
    diff_rev: str | None,
    cache_dir: Path | None,
    no_cache: bool,
    no_prefilter: bool,
    respect_gitignore: bool | None,
    jobs: int,
    output: Path | None,
    quiet: bool,
    statistics: bool,
) -> int:
    """Find code paths that can write the guarded status outside the claim path."""
    from kanban_audit.api import lint as run_lint
    from kanban_audit.linter.report.text import TextOptions, plural
    from kanban_audit.terminal import for_stream

    _check_output(output, "--output")
    _check_output(write_baseline, "--write-baseline")
    if statistics and fmt != "text":
        raise UsageError(f"--statistics works with --format text (the {fmt} report has them)")
    if write_baseline and baseline:
        from kanban_audit.linter.baseline import load_baseline

        load_baseline(baseline)  # a bad baseline fails before the analysis
    shown = fmt == "text" and not output and not quiet
    progress = _progress if shown and sys.stderr.isatty() else None
    result = run_lint(
        [] if only_changed and not paths else paths,
        pack=rules,
        config=config,
        isolated=isolated,
        select=_codes(select),
        ignore=_codes(ignore),
        jobs=jobs,
        cache=not no_cache,
        cache_dir=cache_dir,
        prefilter=not no_prefilter,
        only=paths if only_changed else None,
        diff=diff_rev,
        baseline=None if write_baseline else baseline,
        progress=progress,
        respect_gitignore=respect_gitignore,
    )
    if progress:
        click.echo("\r\033[K", nl=False, err=True)
    for warning in [] if quiet else result.warnings:
        click.echo(f"kanban-audit: warning: {printable(warning)}", err=True)
    if write_baseline:
        from kanban_audit.linter.baseline import write_baseline as save

        save(write_baseline, result.findings)
        if not quiet:
            wrote = plural(len(result.findings), "finding")
            click.echo(f"Wrote {wrote} to {printable(str(write_baseline))}", err=True)
        return 2 if result.errors else 0
    from kanban_audit.linter.report import render

    colour = fmt == "text" and not output and for_stream(sys.stdout).colour
    text = render(result, fmt, TextOptions(colour=colour, quiet=quiet, statistics=statistics))
    if output:
        from kanban_audit.atomic import write_atomic

        try:
            write_atomic(output, text + ("" if text.endswith("\n") else "\n"))
        except OSError as exc:
            raise UsageError(f"--output {output}: {exc.strerror or exc}") from None
    elif text:
        click.echo(text, nl=False, color=colour)
    if result.errors:
        return 2
    return 1 if result.findings and not exit_zero else 0


def _progress(done: int, total: int) -> None:
    if total >= 50 and (done % 10 == 0 or done == total):
        click.echo(f"\rAnalysing files: {done}/{total}", nl=False, err=True)


@cli.command("rules")
def rules_command() -> int:
    """List every code, lint (KA) and audit (KD)."""
    from kanban_audit.codes import codes_table
    from kanban_audit.terminal import for_stream

    click.echo(codes_table(for_stream(sys.stdout).width))
    return 0


@cli.command()
@click.argument("code")
def explain(code: str) -> int:
    """Show a code's documentation with a bad and a good example."""
    from kanban_audit.codes import explain as explain_code

    click.echo(explain_code(code))
    return 0
