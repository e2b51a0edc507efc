"""Errors that end a command with a clear one-line message and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: a missing file, a malformed pack, a bad option."""
