"""What the stray-worker scan (KD007) adds to an audit: this host's process table read once.

    python bench/bench_workers.py BOARD             # 2,000 unrelated processes
    python bench/bench_workers.py BOARD --processes 500 --repeat 5

Runs `kanban_audit.auditor.workers.scan` in-process on BOARD, first on the host
as it is, then with N extra sleeping processes started for the measurement,
and prints the median CPU time and wall time of a scan for each. CPU time is
the cost the audit pays; wall time also shows how busy the machine was.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from kanban_audit.auditor import workers
from kanban_audit.rulepack import load_pack


def measure(board: Path, repeat: int) -> tuple[int, float, float]:
    """(processes scanned, median CPU seconds, median wall seconds) of `repeat` scans."""
    spec = load_pack().workers
    cpu, wall, scanned = [], [], 0
    for _ in range(repeat):
        c, w = time.process_time(), time.perf_counter()
        scanned = workers.scan(spec, board, "bench").scanned
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return scanned, statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("board", type=Path)
    parser.add_argument("--processes", type=int, default=2000, help="extra sleeping processes")
    parser.add_argument("--repeat", type=int, default=21, help="scans per measurement")
    args = parser.parse_args()
    rows = [("as it is", *measure(args.board, args.repeat))]
    sleepers = [subprocess.Popen(["sleep", "100000"]) for _ in range(args.processes)]
    try:
        time.sleep(1)
        rows.append((f"+{args.processes} sleeping", *measure(args.board, args.repeat)))
    finally:
        for proc in sleepers:
            proc.kill()
        for proc in sleepers:
            proc.wait()
    print("| host | processes | scan CPU (median) | scan wall (median) |")
    print("|---|---|---|---|")
    for label, scanned, cpu, wall in rows:
        print(f"| {label} | {scanned:,} | {cpu * 1000:.1f} ms | {wall * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
