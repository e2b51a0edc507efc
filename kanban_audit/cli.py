"""The kanban-audit command line: a thin click layer over the library."""

from __future__ import annotations

import click

from kanban_audit import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kanban-audit")
def main() -> None:
    """Only the claim path may put a task into running: lint the code, audit the board."""


def _register() -> None:
    from kanban_audit.audit.cli import audit, repair

    main.add_command(audit)
    main.add_command(repair)


_register()
