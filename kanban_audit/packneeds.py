"""What each command needs from a rule pack beyond the minimal one.

A minimal pack is the tasks table (a name or a pattern) or its ORM model, its
status column, the guarded state and the sanctioned writers: all the lint reads. The auditor reads
a board, so it needs the table's exact name and the claim columns that tell a
claimed task from an orphan, and the state a repair demotes to (audit shows the
action repair would take); the guard needs the exact name for its triggers.
A pack that lacks one is refused in one line that names what to add.
"""

from __future__ import annotations

from kanban_audit.errors import UsageError
from kanban_audit.rulepack import RulePack

# command -> the [tasks] keys it needs, and why.
NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "audit": (("claim_lock", "claim_expires", "repair_to"), "the claim columns and repair state"),
    "repair": (("claim_lock", "claim_expires", "repair_to"), "the claim columns and repair state"),
    # The guard names a missing claim column itself (guard.py), with the board's.
    "guard": ((), ""),
}


def require(pack: RulePack, command: str) -> None:
    """Raise a one-line UsageError when the pack lacks what `command` needs."""
    tasks = pack.tasks
    if not tasks.table:
        raise UsageError(
            f"rule pack {pack.source}: {command} needs the name of the tasks table: add "
            f"table to [tasks] (the model {tasks.model!r} is enough only for the lint)"
        )
    if tasks.table_is_pattern:
        raise UsageError(
            f"rule pack {pack.source}: {command} needs the exact name of the tasks table, "
            f"not the pattern {tasks.table!r} (only the lint reads patterns)"
        )
    keys, why = NEEDS[command]
    missing = [key for key in keys if not getattr(tasks, key)]
    if missing:
        listed = ", ".join(missing)
        raise UsageError(
            f"rule pack {pack.source}: {command} needs {why}: add {listed} to [tasks] "
            "(the lint does not)"
        )
