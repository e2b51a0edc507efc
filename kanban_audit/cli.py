"""The kanban-audit command line: a thin click layer over the library."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import click

from kanban_audit import __version__
from kanban_audit.errors import UsageError

FORMATS = ("text", "json", "sarif", "github")


class LazyGroup(click.Group):
    """Subcommands imported on first use: `lint` never pays for the auditor's imports."""

    lazy = {
        "audit": "kanban_audit.audit.cli:audit",
        "repair": "kanban_audit.audit.cli:repair",
        "guard": "kanban_audit.audit.cli:guard",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, name = self.lazy[cmd_name].split(":")
            return getattr(importlib.import_module(module), name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kanban-audit")
def main() -> None:
    """Only the claim path may put a task into running: lint the code, audit the board."""


def _fail(message: str) -> None:
    click.echo(f"kanban-audit: error: {message}", err=True)
    sys.exit(2)


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in value.split(",") if c.strip()) if value else ()


def _changed_since(rev: str) -> list[Path]:
    """Files changed since a git revision (committed, staged, unstaged or untracked)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise UsageError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
        return done.stdout

    top = Path(git("rev-parse", "--show-toplevel").strip())
    names = git("diff", "--name-only", "--diff-filter=ACMR", rev).splitlines()
    names += git("ls-files", "--others", "--exclude-standard").splitlines()
    return [top / name for name in names if name.endswith((".py", ".pyi"))]


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--rules", type=click.Path(path_type=Path), help="Rule pack (TOML).")
@click.option("--config", type=click.Path(path_type=Path), help="pyproject.toml to read.")
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
    "--jobs", "-j", type=click.IntRange(min=0), default=0, help="Worker processes (0: all cores)."
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report to a file.")
def lint(
    paths: tuple[Path, ...],
    fmt: str,
    rules: Path | None,
    config: Path | None,
    select: str | None,
    ignore: str | None,
    exit_zero: bool,
    baseline: Path | None,
    write_baseline: Path | None,
    only_changed: bool,
    diff_rev: str | None,
    cache_dir: Path | None,
    no_cache: bool,
    jobs: int,
    output: Path | None,
) -> None:
    """Find code paths that can write the guarded status outside the claim path."""
    from kanban_audit.config import load_config
    from kanban_audit.lint.engine import LintOptions
    from kanban_audit.lint.engine import lint as run_lint
    from kanban_audit.rulepack import load_pack

    try:
        cwd = Path.cwd()
        cfg = load_config(cwd, config)
        pack = load_pack(rules or cfg.rules)
        known = None
        if baseline:
            from kanban_audit.lint.baseline import load_baseline

            known = load_baseline(baseline)  # fail fast, before the analysis
        only: list[Path] | None = None
        targets = list(paths) or [Path(".")]
        if only_changed or diff_rev:
            only = list(paths) if only_changed else []
            if diff_rev:
                only += _changed_since(diff_rev)
            targets = [cfg.root]
        cache = (
            None if no_cache else (cache_dir or cfg.cache_dir or cfg.root / ".kanban-audit-cache")
        )
        progress = _progress if sys.stderr.isatty() and fmt == "text" and not output else None
        result = run_lint(
            LintOptions(
                paths=targets,
                pack=pack,
                config=cfg,
                select=_codes(select),
                ignore=_codes(ignore),
                jobs=jobs,
                cache_dir=cache,
                only=only,
                progress=progress,
                cwd=cwd,
            )
        )
        if progress:
            click.echo("\r\033[K", nl=False, err=True)
        if write_baseline:
            from kanban_audit.lint.baseline import write_baseline as save

            save(write_baseline, result.findings)
            click.echo(f"Wrote {len(result.findings)} findings to {write_baseline}", err=True)
            sys.exit(2 if result.errors else 0)
        if known is not None:
            from kanban_audit.lint.baseline import filter_new

            result.findings = filter_new(result.findings, known)
        from kanban_audit.lint.report import render

        text = render(result, fmt)
        if output:
            output.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        elif text:
            click.echo(text, nl=False)
    except UsageError as exc:
        _fail(str(exc))
    if result.errors:
        sys.exit(2)
    sys.exit(1 if result.findings and not exit_zero else 0)


def _progress(done: int, total: int) -> None:
    if total >= 50 and (done % 10 == 0 or done == total):
        click.echo(f"\rAnalysing files: {done}/{total}", nl=False, err=True)


@main.command("rules")
def rules_command() -> None:
    """List the rule codes."""
    from kanban_audit.lint.rules import rules_table

    click.echo(rules_table())


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Show a rule's documentation with a bad and a good example."""
    from kanban_audit.lint.rules import explain as explain_rule

    try:
        click.echo(explain_rule(code.upper()))
    except UsageError as exc:
        _fail(str(exc))
