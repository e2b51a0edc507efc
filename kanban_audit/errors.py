"""Errors that end a command with one clear line on stderr and exit code 2."""


class KanbanAuditError(Exception):
    """An expected failure; its message is one line for the user."""


class UsageError(KanbanAuditError):
    """Bad input from the user: a missing file, a malformed pack, a bad option."""
