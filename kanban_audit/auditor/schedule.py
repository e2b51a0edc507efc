"""What a scheduled run needs besides the audit: backup retention and metrics for monitoring.

Retention deletes only the tool's own backups of one board: regular files (not
links) in the backup folder named exactly as a repair names them,
`<board file>.<YYYYMMDDTHHMMSSZ>[-N].bak`, oldest (by that name's time) first,
keeping the newest N. The backup the run just made is always kept.

Metrics are the Prometheus text exposition format, written whole or not at all
(atomic.write_atomic), as node_exporter's textfile collector expects of a cron job.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from kanban_audit.atomic import write_atomic
from kanban_audit.auditor.board import BoardError
from kanban_audit.auditor.checks import Report
from kanban_audit.auditor.guard import CURRENT

STAMP = r"\d{8}T\d{6}Z"


def backups(folder: Path, board: Path) -> list[Path]:
    """The tool's backups of `board` in `folder`, oldest first."""
    pattern = re.compile(re.escape(board.name) + rf"\.({STAMP})(?:-(\d+))?\.bak")
    found = []
    try:
        children = list(folder.iterdir())
    except OSError as exc:
        raise BoardError(f"cannot list backups in {folder}: {exc.strerror}") from None
    for child in children:
        match = pattern.fullmatch(child.name)
        if match is None:
            continue
        try:
            if not stat.S_ISREG(child.lstat().st_mode):
                continue
        except OSError:
            continue
        found.append((match.group(1), int(match.group(2) or 1), child))
    return [path for _, _, path in sorted(found)]


def prune(folder: Path, board: Path, keep: int, made: Path | None) -> list[Path]:
    """Delete all but the newest `keep` backups of `board` (never `made`); the deleted."""
    old = [p for p in backups(folder, board) if p != made]
    excess = old[: max(len(old) - max(keep - (made is not None), 0), 0)]
    for path in excess:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BoardError(f"cannot delete old backup {path}: {exc.strerror}") from None
    return excess


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def metrics(reports: list[tuple[str, Report | None]], exit_code: int, now: float) -> str:
    """The run in the text exposition format: one series per board (label `db`)."""
    families = {
        "kanban_audit_up": ("gauge", "1 when the board could be read, 0 when not"),
        "kanban_audit_findings": ("gauge", "Findings that count, by code"),
        "kanban_audit_repairable": ("gauge", "Findings a repair would fix"),
        "kanban_audit_known": ("gauge", "Acknowledged findings (not counted)"),
        "kanban_audit_running_tasks": ("gauge", "Tasks in the guarded state"),
        "kanban_audit_open_runs": ("gauge", "Runs not ended"),
        "kanban_audit_guard_current": ("gauge", "1 when the guard is installed and current"),
    }
    samples: dict[str, list[str]] = {name: [] for name in families}
    for db, report in reports:
        label = f'db="{_label(db)}"'
        samples["kanban_audit_up"].append(f"{{{label}}} {0 if report is None else 1}")
        if report is None:
            continue
        counts: dict[str, int] = {}
        for finding in report.findings:
            for code in finding.codes:
                counts[code] = counts.get(code, 0) + 1
        samples["kanban_audit_findings"] += [
            f'{{{label},code="{code}"}} {n}' for code, n in sorted(counts.items())
        ] or [f'{{{label},code="none"}} 0']
        samples["kanban_audit_repairable"].append(f"{{{label}}} {len(report.planned)}")
        samples["kanban_audit_known"].append(f"{{{label}}} {len(report.known)}")
        samples["kanban_audit_running_tasks"].append(f"{{{label}}} {report.running}")
        samples["kanban_audit_open_runs"].append(f"{{{label}}} {report.open_runs}")
        if report.guard is not None:
            current = int(report.guard.state == CURRENT)
            samples["kanban_audit_guard_current"].append(f"{{{label}}} {current}")
    lines = []
    for name, (kind, help_text) in families.items():
        if samples[name]:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            lines += [f"{name}{sample}" for sample in samples[name]]
    lines += [
        "# HELP kanban_audit_exit_code The exit code of the run",
        "# TYPE kanban_audit_exit_code gauge",
        f"kanban_audit_exit_code {exit_code}",
        "# HELP kanban_audit_last_run_timestamp_seconds When the run checked the boards",
        "# TYPE kanban_audit_last_run_timestamp_seconds gauge",
        f"kanban_audit_last_run_timestamp_seconds {int(now)}",
    ]
    return "\n".join(lines) + "\n"


def write_metrics(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise BoardError(f"--metrics-file {path}: {exc.strerror or exc}") from None
