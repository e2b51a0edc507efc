"""Benchmark `kanban-audit audit` and `repair --apply` on generated Hermes boards.

    python bench/bench_audit.py                 # 1,000,000 tasks, 10,000 orphans
    python bench/bench_audit.py --tasks 20000 --orphans 200 --repeat 1   # smoke

Audit: the installed command on an N-task board (1% running, a mix of healthy
and orphaned), median wall time of several runs, next to the one raw SQL
query that finds running tasks without an open run (through the sqlite3 shell
and through Python's sqlite3 in-process), plus the peak RSS of the audit's
process tree. Repair: `repair --apply` on a fresh copy of a board whose
running tasks are all orphans, backup off and on, in tasks per second.
Boards are built once in --workdir and reused. Prints a Markdown report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_board  # noqa: E402

KANBAN_AUDIT = Path(sys.executable).parent / "kanban-audit"
RAW_QUERY = (
    "SELECT t.id FROM tasks t WHERE t.status = 'running' AND NOT EXISTS"
    " (SELECT 1 FROM task_runs r WHERE r.id = t.current_run_id AND r.task_id = t.id"
    " AND r.ended_at IS NULL)"
)


def board(workdir: Path, name: str, tasks: int, running: float, share: float) -> dict[str, Any]:
    """Build a board once; later runs reuse it if it was built with the same parameters."""
    path = workdir / f"{name}.db"
    meta_path = Path(f"{path}.json")
    wanted = {"tasks": tasks, "running_share": running, "orphan_share": share}
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if all(meta.get(k) == v for k, v in wanted.items()):
            return {**meta, "path": path}
    started = time.perf_counter()
    meta = {**make_board.generate(path, tasks, running, share), **wanted}
    meta["build_seconds"] = round(time.perf_counter() - started, 2)
    meta["bytes"] = path.stat().st_size
    meta_path.write_text(json.dumps(meta, indent=2))
    return {**meta, "path": path}


def timed(run: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        out.append(time.perf_counter() - started)
    return out


def raw_in_process(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return len(conn.execute(RAW_QUERY).fetchall())
    finally:
        conn.close()


def raw_shell(path: Path) -> None:
    subprocess.run(["sqlite3", str(path), RAW_QUERY], check=True, stdout=subprocess.DEVNULL)


def audit_cmd(meta: dict[str, Any]) -> list[str]:
    return [str(KANBAN_AUDIT), "audit", str(meta["path"]), "--format", "json"] + [
        "--now",
        str(meta["now"]),
    ]


def run_audit(meta: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(audit_cmd(meta), capture_output=True, text=True, check=False)
    if proc.returncode != 1:
        raise SystemExit(f"audit exited {proc.returncode}: {proc.stderr.strip()}")
    return json.loads(proc.stdout)["summary"]


def peak_rss(cmd: list[str]) -> int:
    """Peak RSS in bytes of a command's whole process tree, polled every 2 ms."""
    proc = psutil.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [proc, *proc.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.002)
    return peak


def children_maxrss() -> int:
    """The kernel's peak RSS (bytes) of the largest child waited for so far (the audits)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def bench_audit(meta: dict[str, Any], repeat: int) -> dict[str, Any]:
    path = meta["path"]
    found = run_audit(meta)  # also warms the page cache
    expected = {"findings": meta["findings"], "repairable": meta["repairable"]}
    if {k: found[k] for k in expected} != expected:
        raise SystemExit(f"audit found {found}, the generator expected {expected}")
    rows = raw_in_process(path)
    shell = timed(lambda: raw_shell(path), repeat) if shutil.which("sqlite3") else []
    audit = timed(lambda: run_audit(meta), repeat)
    return {
        "raw_rows": rows,
        "raw_in_process_s": statistics.median(timed(lambda: raw_in_process(path), repeat)),
        "raw_shell_s": statistics.median(shell) if shell else None,
        "audit_s": statistics.median(audit),
        "audit_runs_s": [round(x, 3) for x in audit],
        "peak_rss_bytes": peak_rss(audit_cmd(meta)),
        "ru_maxrss_bytes": children_maxrss(),
        "summary": found,
    }


def with_open_run_index(meta: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """A copy of the board plus a partial index on open runs (Hermes has none).

    Shows what the audit costs once its one full scan (open runs) is an index
    read: the remainder is interpreter start-up and per-running-task work.
    """
    path = workdir / f"{meta['path'].stem}-openidx.db"
    if not path.exists():
        shutil.copyfile(meta["path"], path)
        conn = sqlite3.connect(path)
        conn.execute("CREATE INDEX idx_task_runs_open ON task_runs(task_id) WHERE ended_at IS NULL")
        conn.close()
    return {**meta, "path": path}


def bench_repair(meta: dict[str, Any], workdir: Path, repeat: int, backup: bool) -> dict[str, Any]:
    """`repair --apply --yes` on a fresh copy each run: wall time and tasks per second."""
    times, repaired = [], 0
    for _ in range(repeat):
        copy = workdir / "repair-copy.db"
        shutil.copyfile(meta["path"], copy)
        cmd = [str(KANBAN_AUDIT), "repair", str(copy), "--apply", "--yes", "--format", "json"]
        cmd += ["--now", str(meta["now"])] + ([] if backup else ["--no-backup"])
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise SystemExit(f"repair exited {proc.returncode}: {proc.stderr.strip()}")
        doc = json.loads(proc.stdout)
        repaired = doc["summary"]["repaired"]
        for leftover in [copy, *workdir.glob("repair-copy.db*")]:
            leftover.unlink(missing_ok=True)
    median = statistics.median(times)
    return {
        "repaired": repaired,
        "median_s": median,
        "runs_s": [round(x, 3) for x in times],
        "tasks_per_s": repaired / median,
    }


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def markdown(
    info: dict[str, str],
    audit: dict[str, Any],
    repairs: dict[str, dict[str, Any]],
    meta: dict[str, Any],
) -> str:
    ms = 1000
    raw = audit["raw_shell_s"] or audit["raw_in_process_s"]
    indexed = audit["audit_open_index_s"]
    lines = [
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']},"
        f" SQLite {info['sqlite']}, {info['date']}, load average at start {info['load']}.",
        "",
        f"Board: {meta['tasks']:,} tasks, {meta['running']:,} running, {meta['runs']:,} runs,"
        f" {meta['events']:,} events, {meta['bytes'] / 1e6:.0f} MB"
        f" (built in {meta.get('build_seconds', '?')} s).",
        "",
        "| measurement | median |",
        "|---|---|",
        f"| raw query, `sqlite3` shell process | {audit['raw_shell_s'] * ms:.0f} ms |"
        if audit["raw_shell_s"]
        else "| raw query, `sqlite3` shell | not installed |",
        f"| raw query, in-process (Python sqlite3) | {audit['raw_in_process_s'] * ms:.0f} ms |",
        f"| `kanban-audit audit --format json` (process) | {audit['audit_s'] * ms:.0f} ms |",
        f"| audit / raw query (shell) | {audit['audit_s'] / raw:.1f}x |",
        f"| audit, same board plus a partial index on open runs"
        f" | {indexed * ms:.0f} ms ({indexed / raw:.1f}x) |",
        f"| audit peak RSS, process tree (polled) | {audit['peak_rss_bytes'] / 2**20:.0f} MiB |",
    ]
    lines.append(
        f"| largest child's peak RSS (getrusage) | {audit['ru_maxrss_bytes'] / 2**20:.0f} MiB |"
    )
    for label, rep in repairs.items():
        lines.append(
            f"| `repair --apply` {label}: {rep['repaired']:,} repairs |"
            f" {rep['median_s']:.2f} s = {rep['tasks_per_s']:,.0f} tasks/s |"
        )
    lines += [
        "",
        f"Raw query rows: {audit['raw_rows']:,}; audit summary: {json.dumps(audit['summary'])}.",
        f"Audit runs (s): {audit['audit_runs_s']}; repair runs (s): "
        + "; ".join(f"{k} {v['runs_s']}" for k, v in repairs.items())
        + ".",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000, help="tasks on the audit board")
    parser.add_argument("--orphans", type=int, default=10_000, help="orphans to repair")
    parser.add_argument(
        "--repair-tasks", type=int, help="tasks on the repair board (default: --tasks)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "kanban-audit-bench",
        help="where boards are built and reused",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    info = machine()
    meta = board(args.workdir, f"audit-{args.tasks}", args.tasks, 0.01, 0.15)
    audit = bench_audit(meta, args.repeat)
    indexed = with_open_run_index(meta, args.workdir)
    audit["audit_open_index_s"] = statistics.median(timed(lambda: run_audit(indexed), args.repeat))
    repair_tasks = args.repair_tasks or args.tasks
    rmeta = board(
        args.workdir,
        f"repair-{repair_tasks}-{args.orphans}",
        repair_tasks,
        args.orphans / repair_tasks,
        1.0,
    )
    repeat = max(1, min(args.repeat, 3))
    repairs = {
        "backup off": bench_repair(rmeta, args.workdir, repeat, backup=False),
        "backup on": bench_repair(rmeta, args.workdir, repeat, backup=True),
    }
    print(markdown(info, audit, repairs, meta))
    print()
    print("```json")
    print(json.dumps({"machine": info, "audit": audit, "repair": repairs}, default=str))
    print("```")


if __name__ == "__main__":
    main()
