"""Lint every project of the real-world corpus cold, and score it against its labels.

    python bench/bench_corpus.py [--runs N] [--project ID ...]

Each project of tests/corpus/projects (docs/corpus.md) is downloaded and unpacked
by tests/support/pypi.py (pinned, sha256-checked, cached; nothing committed),
then linted by the installed command as a user runs it: `kanban-audit lint
--isolated --no-cache --rules pack.toml --format json <lint paths>` from the
unpacked root, best of N runs (N=3). Prints a markdown table: project, version,
SQL or ORM, driver, labelled writes (claim / other), findings against the
labels (true / false / missed, over the places reported), cold wall time and
the CPU time of that command (its processes together: on a shared machine the
wall time also measures the neighbours). Every run of a project must report
the same findings. The last line says PASS or FAIL for the target: every project
under 2 s cold.
"""

from __future__ import annotations

import argparse
import resource
import sys
from typing import Any

from bench_lint import BIN, REPO, Measure, compile_bytecode, report, run, shown

sys.path.insert(0, str(REPO / "tests"))
from support import pypi  # noqa: E402
from support.corpus import Project, load_projects  # noqa: E402

TARGET_COLD_S = 2.0
HEADER = (
    "| project | version | SQL or ORM | driver | writes (claim / other) "
    "| findings (true / false / missed) | cold (s) | CPU (s) |\n"
    "|---|---|---|---|---|---|---|---|"
)


def command(project: Project) -> list[str]:
    return [
        str(BIN / "kanban-audit"),
        "lint",
        "--isolated",
        "--no-cache",
        "--format",
        "json",
        "--rules",
        str(project.pack),
        *project.lint,
    ]


def places(doc: dict[str, Any]) -> set[tuple[str, int, str]]:
    """The places reported: one flow found over several paths is one place."""
    return {(f["path"], f["line"], f["code"]) for f in doc["findings"]}


def cpu_seconds() -> float:
    """CPU time of the children waited for so far: on a shared machine, what a run
    costs whatever else the cores are doing."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def measure(project: Project, runs: int) -> dict[str, Any]:
    """Best-of-`runs` cold time and CPU time, and the findings scored against the labels."""
    root = pypi.unpacked(project.pin)
    cmd = command(project)
    timed, cpu = Measure(f"{project.id} cold", shown(cmd), []), []
    for _ in range(runs):
        before = cpu_seconds()
        timed.runs.append(run(cmd, root))
        cpu.append(cpu_seconds() - before)
    print(f"  {project.id}: {[round(r.seconds, 2) for r in timed.runs]} s", file=sys.stderr)
    docs = [report(timed, r) for r in timed.runs]
    if any(d["findings"] != docs[0]["findings"] for d in docs):
        raise SystemExit(f"{project.id}: the runs report different findings")
    if docs[0]["errors"]:
        raise SystemExit(f"{project.id}: files not analysed: {docs[0]['errors']}")
    want = {(f.path, f.line, f.code) for f in project.findings}
    got = places(docs[0])
    return {
        "project": project,
        "seconds": min(r.seconds for r in timed.runs),
        "cpu": min(cpu),
        "true": len(want & got),
        "false": len(got - want),
        "missed": len(want - got),
    }


def row(result: dict[str, Any]) -> str:
    p: Project = result["project"]
    claims = len(p.claims)
    return (
        f"| {p.id} | {p.version} | {p.writes_by.upper()} | {p.driver} "
        f"| {claims} / {len(p.writes) - claims} "
        f"| {result['true']} / {result['false']} / {result['missed']} "
        f"| {result['seconds']:.2f} | {result['cpu']:.2f} |"
    )


def table(results: list[dict[str, Any]]) -> str:
    return "\n".join([HEADER, *(row(r) for r in results)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold runs per project (best kept)")
    parser.add_argument(
        "--project", action="append", default=[], help="only this project id (repeatable)"
    )
    args = parser.parse_args(argv)
    projects = load_projects()
    unknown = sorted(set(args.project) - {p.id for p in projects})
    if unknown:
        parser.error(f"no corpus project {unknown[0]!r}")
    chosen = [p for p in projects if not args.project or p.id in args.project]
    compile_bytecode()
    results = [measure(p, max(1, args.runs)) for p in chosen]
    print(table(results))
    slow = [r["project"].id for r in results if r["seconds"] >= TARGET_COLD_S]
    verdict = f"FAIL ({', '.join(slow)})" if slow else "PASS"
    print(f"\n- {verdict}: every project lints in under {TARGET_COLD_S:.0f} s cold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
