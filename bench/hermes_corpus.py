"""The lint benchmark on the real Hermes agent (`bench_lint.py --corpus hermes`).

Each release is downloaded by tests/support/hermes.py (pinned version, checked
sha256, cached; nothing committed) and copied into the work folder. Measured in
the same run, per release: `ruff check --isolated --select F401 --no-cache`
(the Hermes tree's own pyproject sets `exclude = ["*"]`, so ruff needs
`--isolated` to check anything); kanban-audit cold, cold with `--jobs 1`, cold
with the pre-filter off; warm with nothing touched, and after touching the
dashboard plugin, `hermes_cli/kanban_db.py` or an unrelated module; the
pre-commit hook's path (`--only-changed` with the touched plugin). Every
kanban-audit run must report the same findings: exactly one KA001 at
plugins/kanban/dashboard/plugin_api.py:872 in 0.14.0, none in 0.19.0.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from bench_lint import BIN, REPO, Measure, repeat, report, touched_file

sys.path.insert(0, str(REPO / "tests"))
from support.hermes import unpacked  # noqa: E402

RELEASES = {"0.14.0": [("KA001", "plugins/kanban/dashboard/plugin_api.py", 872)], "0.19.0": []}
PLUGIN = "plugins/kanban/dashboard/plugin_api.py"
KANBAN_DB = "hermes_cli/kanban_db.py"
UNRELATED = "agent/insights.py"
TARGET_COLD_VS_RUFF = 10.0
TARGET_WARM_VS_RUFF = 3.0
TARGET_RSS_MB = 300


def prepare(version: str, work: Path) -> tuple[Path, int, int]:
    """A fresh copy of the release's files; (root, Python files, lines)."""
    root = work / f"hermes-{version}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(unpacked(version), root)
    files = sorted(root.rglob("*.py"))
    return root, len(files), sum(p.read_bytes().count(b"\n") for p in files)


def lint(jobs: int, *extra: str) -> list[str]:
    return [str(BIN / "kanban-audit"), "lint", "--format", "json", "--jobs", str(jobs), *extra]


def bench(version: str, work: Path, runs: int, jobs: int) -> dict[str, Any]:
    root, files, lines = prepare(version, work)
    print(f"hermes-agent {version}: {files} files, {lines:,} lines in {root}", file=sys.stderr)
    cache = ["--cache-dir", str(work / f"cache-{version}")]
    shutil.rmtree(work / f"cache-{version}", ignore_errors=True)
    ruff = [str(BIN / "ruff"), "check", "--isolated", "--select", "F401", "--no-cache", "."]
    m: dict[str, Measure] = {"ruff": repeat("ruff F401 --isolated", ruff, root, runs)}
    m["cold"] = repeat("kanban-audit cold", lint(jobs, "--no-cache", "."), root, runs)
    m["cold1"] = repeat("kanban-audit cold, --jobs 1", lint(1, "--no-cache", "."), root, runs)
    m["all"] = repeat(
        "kanban-audit cold, pre-filter off",
        lint(jobs, "--no-cache", "--no-prefilter", "."),
        root,
        1,
    )
    m["fill"] = repeat("kanban-audit, filling the cache", lint(jobs, *cache, "."), root, 1)
    m["warm"] = repeat("kanban-audit warm, nothing touched", lint(jobs, *cache, "."), root, runs)
    for key, path, what in (
        ("warm_plugin", PLUGIN, "dashboard plugin"),
        ("warm_db", KANBAN_DB, "kanban_db.py"),
        ("warm_other", UNRELATED, "unrelated module"),
    ):
        m[key] = touched_file(
            f"kanban-audit warm, {what} touched", root, root / path, lint(jobs, *cache, "."), runs
        )
    hook = lint(jobs, *cache, "--only-changed", PLUGIN)
    m["hook"] = touched_file(
        "pre-commit: --only-changed, plugin touched", root, root / PLUGIN, hook, runs
    )
    docs = check_findings(version, m)
    return {"version": version, "root": root, "files": files, "lines": lines, "m": m, **docs}


def check_findings(version: str, m: dict[str, Measure]) -> dict[str, Any]:
    """Every run reports the release's expected findings and no error; returns the
    summaries of interest."""
    expected = RELEASES[version]
    summaries = {}
    for key, measure in m.items():
        if key == "ruff":
            continue
        for n, r in enumerate(measure.runs, 1):
            doc = report(measure, r) if r.returncode else json.loads(r.stdout)
            found = [(f["code"], f["path"], f["line"]) for f in doc["findings"]]
            if found != expected or doc["errors"]:
                raise SystemExit(
                    f"hermes-agent {version}: {measure.label} #{n} reported {found}"
                    f" and errors {doc['errors']}, expected {expected}"
                )
            summaries[key] = doc["summary"]
    return {"summaries": summaries}


def targets(result: dict[str, Any]) -> list[tuple[str, bool]]:
    m = result["m"]
    ruff = m["ruff"].median
    cold = m["cold"].median / ruff
    warm = {k: m[k].median / ruff for k in ("warm", "warm_plugin", "warm_db", "warm_other", "hook")}
    worst = max(warm, key=warm.get)
    rss = max(max(r.peak_rss for r in v.runs) for k, v in m.items() if k not in ("ruff", "all"))
    return [
        (f"cold <= {TARGET_COLD_VS_RUFF:.0f}x ruff: {cold:.1f}x", cold <= TARGET_COLD_VS_RUFF),
        (
            f"warm and pre-commit <= {TARGET_WARM_VS_RUFF:.0f}x ruff: worst {warm[worst]:.1f}x"
            f" ({m[worst].label})",
            warm[worst] <= TARGET_WARM_VS_RUFF,
        ),
        (
            f"peak RSS (pre-filter on) <= {TARGET_RSS_MB} MB: {rss / 1e6:.0f} MB",
            rss <= TARGET_RSS_MB * 1e6,
        ),
        (
            f"findings as expected in all {sum(len(v.runs) for k, v in m.items() if k != 'ruff')}"
            " kanban-audit runs (cold, --jobs 1, pre-filter off, warm, pre-commit)",
            True,
        ),
    ]


def block(info: dict[str, str], result: dict[str, Any], runs: int, jobs: int) -> str:
    version, m = result["version"], result["m"]
    key = f"hermes{version.replace('.', '')}"
    expected = RELEASES[version]
    found = ", ".join(f"{c} {p}:{line}" for c, p, line in expected) or "none"
    s = result["summaries"]
    lines = [
        f"<!-- lint:{key}:start -->",
        f"### hermes-agent {version} (package index): {result['files']:,} files,"
        f" {result['lines']:,} lines",
        "",
        f"{info['date']}; {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM,"
        f" Python {info['python']}; {info['versions']}.",
        f"`python bench/bench_lint.py --corpus hermes --runs {runs} --jobs {jobs}`: medians of"
        f" {runs} runs, 1 with the pre-filter off and 1 for filling the cache.",
        "",
        f"- Findings in every kanban-audit run: {found}.",
        f"- Files parsed: cold {s['cold']['files_parsed']} of {s['cold']['files']};"
        f" pre-filter off {s['all']['files_parsed']}; warm, kanban_db.py touched"
        f" {s['warm_db']['files_parsed']} (cached {s['warm_db']['files_cached']}).",
        "",
        "| measurement | command | median s | min s | max s | runs | peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for measure in m.values():
        secs = [r.seconds for r in measure.runs]
        lines.append(
            f"| {measure.label} | `{measure.command}` | {measure.median:.2f} | {min(secs):.2f}"
            f" | {max(secs):.2f} | {len(secs)} | {measure.peak_mb:.0f} |"
        )
    lines += ["", *(f"- {'PASS' if ok else 'FAIL'}: {text}" for text, ok in targets(result))]
    lines.append(f"<!-- lint:{key}:end -->")
    return "\n".join(lines)
