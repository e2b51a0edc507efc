"""The installed `kanban-audit` command, run as a user or CI would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

KANBAN_AUDIT = Path(sys.executable).parent / "kanban-audit"


def run_cli(*args: Any, timeout: float = 300, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the installed command with stdin closed; text output captured."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    return subprocess.run(
        [str(KANBAN_AUDIT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def run_json(*args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """Run with `--format json`: the exit code and the document (stderr must be empty)."""
    proc = run_cli(*args, "--format", "json", **kwargs)
    assert proc.stderr == "", proc.stderr
    return proc.returncode, json.loads(proc.stdout)
