"""Which files a change touches: for `--only-changed` and `--diff REV`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kanban_audit.errors import UsageError


def changed_since(rev: str, cwd: Path | None = None) -> list[Path]:
    """Python files changed since a git revision (committed, staged, unstaged or untracked)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=cwd)
        except OSError as exc:
            raise UsageError(f"cannot run git: {exc.strerror or exc}") from None
        if done.returncode != 0:
            raise UsageError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
        return done.stdout

    top = Path(git("rev-parse", "--show-toplevel").strip())
    names = git("diff", "--name-only", "--diff-filter=ACMR", rev).splitlines()
    names += git("ls-files", "--others", "--exclude-standard").splitlines()
    return [top / name for name in names if name.endswith((".py", ".pyi"))]
