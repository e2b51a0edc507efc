"""Which files a change touches: for `--only-changed` and `--diff REV`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from kanban_audit.errors import UsageError


def changed_since(rev: str, cwd: Path | None = None) -> list[Path]:
    """Python files changed since a git revision (committed, staged, unstaged or untracked).

    git runs read-only (no optional index refresh), and `rev` is checked to
    be a commit first, so a value such as `--output=FILE` is never an option.
    """

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
        try:
            return subprocess.run(["git", *args], capture_output=True, cwd=cwd, env=env)
        except OSError as exc:
            raise UsageError(f"--diff: cannot run git: {exc.strerror or exc}") from None

    def names(command: str, *args: str) -> list[str]:
        """File names as git wrote them (-z: unquoted), decoded like os.listdir does."""
        done = git(command, "-z", *args)
        if done.returncode != 0:
            message = done.stderr.decode(errors="replace").strip().splitlines()[:1] or ["failed"]
            raise UsageError(f"--diff {rev}: git {command}: {message[0]}")
        return [os.fsdecode(name) for name in done.stdout.split(b"\0") if name]

    if not rev or rev.startswith("-"):
        raise UsageError(f"--diff {rev!r}: not a revision")
    top = git("rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UsageError(f"--diff {rev}: not inside a git repository")
    if git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode != 0:
        raise UsageError(f"--diff {rev}: unknown revision")
    changed = names("diff", "--name-only", "--diff-filter=ACMR", rev, "--")
    changed += names("ls-files", "--others", "--exclude-standard")
    root = Path(os.fsdecode(top.stdout.strip()))
    return [root / name for name in changed if name.endswith((".py", ".pyi"))]
