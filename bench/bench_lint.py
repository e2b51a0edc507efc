"""Benchmark `kanban-audit lint` against Fixit and ruff, and on the real Hermes agent.

    python bench/bench_lint.py [--corpus stdlib|large|hermes] [--runs N] [--fixit-runs N]
                               [--jobs N] [--quick] [--results PATH] [--workdir DIR]

`--corpus hermes` measures the released hermes-agent 0.14.0 and 0.19.0 against
ruff in the same run (bench/hermes_corpus.py). Otherwise:

Corpora, built in a temp dir: (1) the running interpreter's standard library
without its test suites, plus the bundled board-service example that holds the
bug; (2) that plus the modules of the interpreter's site-packages (test folders
skipped there too), to show how time grows with size. Per corpus, at the same
number of processes, median (and min/max) wall time of: `ruff check --select
F401 --no-cache`; kanban-audit cold (`--no-cache`); kanban-audit warm (cache
filled, one file touched: once a file that passes the pre-filter, once one that
does not); one cold kanban-audit run with `--jobs 1`; Fixit with one trivial
LibCST rule (bench/fixit_rule). Peak RSS of each command's whole process tree is
polled every 20 ms. Asserts that every kanban-audit run reports the same
findings, including the example's two KA001, checks the targets of issue 5, and
writes the Lint section of bench/RESULTS.md. `--quick` is the smoke mode: the
example plus 20 small stdlib files, one run each.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
START, END = "<!-- lint:start -->", "<!-- lint:end -->"
# Test suites are not the code a user lints; the other names are default
# excludes of ruff and kanban-audit (stdlib's `venv` package), dropped so that
# every tool sees exactly the same files.
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}
SKIP_DIRS |= {"venv", ".venv", "build", "dist", "node_modules"}
QUICK_FILES = 20
QUICK_MAX_BYTES = 8000  # keeps the smoke corpus tiny, so Fixit on it takes seconds
POLL_SECONDS = 0.02
EXAMPLE_FILE = "board_service/board/api.py"
TARGET_COLD_VS_FIXIT = 20.0
TARGET_WARM_VS_RUFF = 3.0
TARGET_RSS_MB = 500


@dataclasses.dataclass
class Run:
    seconds: float
    peak_rss: int
    returncode: int
    stdout: str
    stderr: str


@dataclasses.dataclass
class Measure:
    """Repeated runs of one command; the table shows median, min and max."""

    label: str
    command: str
    runs: list[Run]

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_rss for r in self.runs) / 2**20


@dataclasses.dataclass
class Corpus:
    name: str
    root: Path
    files: int
    lines: int
    touch_hit: Path
    touch_miss: Path


def run(cmd: list[str], cwd: Path) -> Run:
    """Wall time and peak RSS (sum over the process tree, polled) of one command."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = psutil.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        peak = 0
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.is_set():
                total = 0
                try:
                    for p in [proc, *proc.children(recursive=True)]:
                        try:
                            total += p.memory_info().rss
                        except psutil.NoSuchProcess:
                            continue
                except psutil.NoSuchProcess:
                    return
                peak = max(peak, total)
                done.wait(POLL_SECONDS)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        code = proc.wait()
        seconds = time.perf_counter() - started
        done.set()
        poller.join()
        out.seek(0)
        err.seek(0)
        return Run(seconds, peak, code, out.read().decode(), err.read().decode())


def repeat(label: str, cmd: list[str], cwd: Path, times: int) -> Measure:
    runs = [run(cmd, cwd) for _ in range(times)]
    measure = Measure(label, shown(cmd), runs)
    print(
        f"  {label}: median {measure.median:.2f} s"
        f" ({', '.join(f'{r.seconds:.2f}' for r in runs)}), peak {measure.peak_mb:.0f} MiB",
        file=sys.stderr,
    )
    return measure


def shown(cmd: list[str]) -> str:
    """The command as a user would type it (tools by name, paths relative)."""
    parts = [Path(cmd[0]).name if cmd[0].startswith(str(BIN)) else cmd[0], *cmd[1:]]
    return " ".join(p.replace(str(REPO) + "/", "") for p in parts)


# -- corpora -------------------------------------------------------------------


def copy_py(src: Path, dest: Path, limit: int | None = None) -> None:
    """Copy the .py files of a tree, without the skipped folders; with a limit, only
    that many small files."""
    count = 0
    for here, dirs, names in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            if limit is not None:
                if count >= limit:
                    return
                if (Path(here) / name).stat().st_size > QUICK_MAX_BYTES:
                    continue
            target = dest / Path(here).relative_to(src) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(here) / name, target)
            count += 1


def example() -> Path:
    bundled = REPO / "examples" / "board_service"
    return bundled if bundled.is_dir() else REPO / "tests" / "fixtures" / "service_buggy"


def build(name: str, root: Path, with_packages: bool, limit: int | None) -> Corpus:
    copy_py(Path(sysconfig.get_paths()["stdlib"]), root / "stdlib", limit)
    shutil.copytree(example(), root / "board_service", ignore=shutil.ignore_patterns("__pycache__"))
    if with_packages:
        copy_py(Path(sysconfig.get_paths()["purelib"]), root / "packages")
    files = sorted(root.rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    # A file the pre-filter drops: it never names the tasks table.
    miss = next(p for p in files if b"tasks" not in p.read_bytes() and p.stat().st_size > 1000)
    print(f"{name}: {len(files)} files, {lines:,} lines in {root}", file=sys.stderr)
    return Corpus(name, root, len(files), lines, root / EXAMPLE_FILE, miss)


# -- the tools -----------------------------------------------------------------


def lint_cmd(corpus: Corpus, jobs: int, *cache: str) -> list[str]:
    cache_args = list(cache) or ["--no-cache"]
    return [str(BIN / "kanban-audit"), "lint", *cache_args, "--format", "json"] + [
        "--jobs",
        str(jobs),
        corpus.root.name,
    ]


def report(measure: Measure, r: Run) -> dict[str, Any]:
    """The JSON report of one run; a crash (which also exits 1) stops the benchmark."""
    try:
        if r.returncode in (0, 1, 2):
            return json.loads(r.stdout)
    except json.JSONDecodeError:
        pass
    raise SystemExit(f"{measure.command} exited {r.returncode}: {r.stderr.strip()[-2000:]}")


def keys(doc: dict[str, Any]) -> set[str]:
    """Findings and errors in a form that shows what differs between two reports."""
    return {json.dumps(f, sort_keys=True) for f in doc["findings"] + doc["errors"]}


def same_findings(corpus: Corpus, measures: list[Measure]) -> dict[str, Any]:
    """Every kanban-audit run must report the same findings and errors; returns the
    first report, or stops with the difference (both reports kept in the workdir)."""
    runs = [(f"{m.label} #{n}", report(m, r)) for m in measures for n, r in enumerate(m.runs, 1)]
    first_label, first = runs[0]
    for label, doc in runs[1:]:
        if (doc["findings"], doc["errors"]) != (first["findings"], first["errors"]):
            for name, kept in (("first", first), ("differing", doc)):
                (corpus.root.parent / f"{corpus.root.name}-{name}.json").write_text(
                    json.dumps(kept, indent=2)
                )
            raise SystemExit(
                f"{corpus.name}: findings of {label!r} differ from {first_label!r}:\n"
                f"  only in {first_label}: {sorted(keys(first) - keys(doc))}\n"
                f"  only in {label}: {sorted(keys(doc) - keys(first))}"
            )
    return first


def touched(label: str, corpus: Corpus, path: Path, cmd: list[str], times: int) -> Measure:
    """Warm runs: before each, append a new comment to one file (a cache miss)."""
    return touched_file(label, corpus.root.parent, path, cmd, times)


def touched_file(label: str, cwd: Path, path: Path, cmd: list[str], times: int) -> Measure:
    """Runs in `cwd`; before each, a new comment is appended to `path` (a cache miss)."""
    runs = []
    for n in range(times):
        with path.open("a") as f:
            f.write(f"# bench touch {time.time_ns()} {n}\n")
        runs.append(run(cmd, cwd))
    measure = Measure(label, shown(cmd), runs)
    print(f"  {label}: median {measure.median:.2f} s", file=sys.stderr)
    return measure


def fixit_files(measure: Measure) -> tuple[int, int]:
    """(modules the rule visited, files Fixit failed on), equal for every run."""
    counts = {
        (
            len(re.findall(r"CountCalls: parsed", r.stdout)),
            len(re.findall(r": EXCEPTION: ", r.stdout)),
        )
        for r in measure.runs
    }
    if len(counts) != 1:
        raise SystemExit(f"Fixit visited different files between runs: {sorted(counts)}")
    return counts.pop()


def bench(corpus: Corpus, args: argparse.Namespace) -> dict[str, Any]:
    cwd = corpus.root.parent
    name = corpus.root.name
    print(f"{corpus.name}:", file=sys.stderr)
    ruff = [str(BIN / "ruff"), "check", "--select", "F401", "--no-cache", name]
    ruff_files = subprocess.run(
        [*ruff, "--show-files"], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.count(".py\n")
    m: dict[str, Measure] = {"ruff": repeat("ruff F401", ruff, cwd, args.runs)}
    m["cold"] = repeat("kanban-audit cold", lint_cmd(corpus, args.jobs), cwd, args.runs)
    if name != "large":
        m["cold1"] = repeat("kanban-audit cold, --jobs 1", lint_cmd(corpus, 1), cwd, 1)
    warm = lint_cmd(corpus, args.jobs, "--cache-dir", f"{name}-cache")
    m["fill"] = repeat("kanban-audit, filling the cache", warm, cwd, 1)
    m["warm"] = touched(
        "kanban-audit warm, example touched", corpus, corpus.touch_hit, warm, args.runs
    )
    m["warm_miss"] = touched(
        "kanban-audit warm, pre-filtered file touched", corpus, corpus.touch_miss, warm, args.runs
    )
    # Run from bench/: Fixit resolves the local rule `.fixit_rule` against the cwd.
    fixit = [sys.executable, "fixit_rule/pinned.py", str(args.jobs)]
    fixit += ["--rules", ".fixit_rule", "lint", str(corpus.root)]
    m["fixit"] = repeat("Fixit, one trivial rule", fixit, HERE, args.fixit_runs)

    first = same_findings(corpus, [v for k, v in m.items() if k not in ("ruff", "fixit")])
    ka001 = [
        f
        for f in first["findings"]
        if f["code"] == "KA001" and f["path"].endswith(EXAMPLE_FILE.split("/", 1)[1])
    ]
    if len(ka001) != 2:
        raise SystemExit(f"{corpus.name}: expected the example's two KA001, got {ka001}")
    visited, failed = fixit_files(m["fixit"])
    return {
        "corpus": corpus,
        "measures": m,
        "lint": first,
        "files_seen": {
            "kanban-audit": first["summary"]["files"],
            "ruff": ruff_files,
            "Fixit (parsed + failed)": visited + failed,
        },
        "fixit_failed": failed,
        "warm_summary": json.loads(m["warm"].runs[-1].stdout)["summary"],
        "miss_summary": json.loads(m["warm_miss"].runs[-1].stdout)["summary"],
        "touched": [corpus.touch_hit.relative_to(cwd), corpus.touch_miss.relative_to(cwd)],
    }


# -- the report ----------------------------------------------------------------


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    git = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "python": platform.python_version(),
        "versions": ", ".join(
            f"{d} {version(d)}" for d in ("kanban-audit", "fixit", "ruff", "libcst")
        )
        + (f" (kanban-audit at git {git})" if git else ""),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def targets(result: dict[str, Any]) -> list[tuple[str, bool]]:
    """Issue 5's lint targets; warm is the slower of the two touched cases, peak RSS
    the largest of all kanban-audit runs."""
    m = result["measures"]
    speedup = m["fixit"].median / m["cold"].median
    warm = max(m["warm"].median, m["warm_miss"].median) / m["ruff"].median
    rss = max(max(r.peak_rss for r in v.runs) for k, v in m.items() if k not in ("ruff", "fixit"))
    return [
        (
            f"cold >= {TARGET_COLD_VS_FIXIT:.0f}x faster than Fixit: {speedup:.1f}x",
            speedup >= TARGET_COLD_VS_FIXIT,
        ),
        (
            f"warm <= {TARGET_WARM_VS_RUFF:.0f}x ruff F401 --no-cache: {warm:.1f}x",
            warm <= TARGET_WARM_VS_RUFF,
        ),
        (
            f"peak RSS < {TARGET_RSS_MB} MB: {rss / 1e6:.0f} MB ({rss / 2**20:.0f} MiB)",
            rss < TARGET_RSS_MB * 1e6,
        ),
    ]


def notes(result: dict[str, Any]) -> list[str]:
    """What each tool saw and what kanban-audit found, as list items."""
    m, lint = result["measures"], result["lint"]
    lint_runs = sum(len(m[k].runs) for k in m if k not in ("ruff", "fixit"))
    seen = ", ".join(f"{k} {v:,}" for k, v in result["files_seen"].items())
    found = ", ".join(f"{f['code']} {f['path']}:{f['line']}" for f in lint["findings"])
    errors = ", ".join(f"{e['path']}: {e['message']}" for e in lint["errors"]) or "none"
    hit, miss = result["touched"]
    return [
        f"- Files each tool saw: {seen} (Fixit failed on {result['fixit_failed']}).",
        f"- kanban-audit cold parsed {lint['summary']['files_parsed']:,} files (the others"
        " were dropped by the pre-filter).",
        f"- Warm, `{hit}` touched: {json.dumps(result['warm_summary'])}.",
        f"- Warm, `{miss}` touched: {json.dumps(result['miss_summary'])}.",
        f"- Findings, identical in all {lint_runs} kanban-audit runs: {found}; errors: {errors}.",
    ]


INTRO = """\
One command: `python bench/bench_lint.py` runs every corpus (`--corpus stdlib`,
`--corpus large` or `--corpus hermes` runs one and replaces only its blocks below;
`hermes` downloads the released hermes-agent 0.14.0 and 0.19.0, pinned by sha256).
Every tool runs with the same number of processes (`--jobs`); times are wall clock
including start-up; peak RSS is the summed RSS of the process tree, polled every
20 ms, max over the runs. Warm runs append a new comment to one file before each
run. kanban-audit and ruff run in the temp dir that holds the corpus; Fixit runs in
bench/, where its local rule `.fixit_rule` is resolved, on the corpus's absolute
path (`fixit_rule/pinned.py` only pins Fixit's process pool to the same size). The
`--jobs 1` runs are made on the standard-library and Hermes corpora.
"""


def block(info: dict[str, str], result: dict[str, Any], args: argparse.Namespace) -> str:
    """One corpus's results, between its own markers."""
    corpus: Corpus = result["corpus"]
    m = result["measures"]
    key = corpus.root.name
    which = "--quick" if args.quick else f"--corpus {key}"
    lines = [
        f"<!-- lint:{key}:start -->",
        f"### {corpus.name}: {corpus.files:,} files, {corpus.lines:,} lines",
        "",
        f"{info['date']}; {info['nproc']} CPUs ({info['cpu']}), {info['ram']} RAM,"
        f" Python {info['python']}; {info['versions']}.",
        f"`python bench/bench_lint.py {which} --runs {args.runs} --fixit-runs"
        f" {args.fixit_runs} --jobs {args.jobs}`: medians of {args.runs} runs,"
        f" {args.fixit_runs} for Fixit (slow), 1 for `--jobs 1` and for filling the cache.",
        "",
        *notes(result),
        "",
        "| measurement | command | median s | min s | max s | runs | peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for measure in m.values():
        secs = [r.seconds for r in measure.runs]
        command = measure.command.replace(str(corpus.root), corpus.root.name)
        lines.append(
            f"| {measure.label} | `{command}`"
            f" | {measure.median:.2f} | {min(secs):.2f} | {max(secs):.2f} | {len(secs)}"
            f" | {measure.peak_mb:.0f} |"
        )
    ruff = m["ruff"].median
    jobs1 = m["cold1"].median / m["cold"].median if "cold1" in m else None
    lines += [
        "",
        f"Same run: Fixit / kanban-audit cold = {m['fixit'].median / m['cold'].median:.1f}x;"
        f" kanban-audit cold / ruff = {m['cold'].median / ruff:.1f}x;"
        f" warm (example touched) / ruff = {m['warm'].median / ruff:.1f}x;"
        f" warm (pre-filtered file touched) / ruff = {m['warm_miss'].median / ruff:.1f}x"
        + (f"; cold --jobs 1 / cold --jobs {args.jobs} = {jobs1:.2f}." if jobs1 else "."),
        "",
    ]
    lines += [f"- {verdict(ok)}: {text}" for text, ok in targets(result)]
    lines.append(f"<!-- lint:{key}:end -->")
    return "\n".join(lines)


def write_section(path: Path, blocks: dict[str, str]) -> None:
    """Replace only the Lint section, and in it only the blocks of the corpora just
    measured; add the section if missing."""
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    before, after, kept = old.rstrip("\n") + "\n\n", "\n", {}
    if START in old and END in old:
        before, rest = old.split(START, 1)
        inside, after = rest.split(END, 1)
        pattern = r"<!-- lint:(\w+):start -->.*?<!-- lint:\1:end -->"
        kept = {m.group(1): m.group(0) for m in re.finditer(pattern, inside, re.S)}
    merged = {**kept, **blocks}
    section = "\n\n".join([START, "## Lint", INTRO.rstrip("\n"), *merged.values(), END])
    path.write_text(before + section + after)


def compile_bytecode() -> None:
    """Write the package's bytecode, as installing it from a wheel does: an editable
    install run with PYTHONDONTWRITEBYTECODE would compile every module on every run."""
    spec = importlib.util.find_spec("kanban_audit")
    if spec and spec.origin:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement")
    parser.add_argument("--fixit-runs", type=int, default=3, help="runs of the slow Fixit")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument("--quick", action="store_true", help="tiny corpus, one run (smoke)")
    parser.add_argument("--results", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--workdir", type=Path, help="keep the corpora here (default: temp)")
    parser.add_argument(
        "--corpus",
        action="append",
        choices=["stdlib", "large", "hermes"],
        help="measure only this corpus (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = args.fixit_runs = 1
    compile_bytecode()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bench-lint-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        chosen = args.corpus or ["stdlib", "large", "hermes"]
        if args.quick:
            corpora = [build("stdlib sample + example", work / "small", False, QUICK_FILES)]
        else:
            names = {
                "stdlib": "Standard library + example",
                "large": "Standard library + example + site-packages",
            }
            corpora = [
                build(names[key], work / key, key == "large", None)
                for key in chosen
                if key in names
            ]
        blocks = {c.root.name: block(info, bench(c, args), args) for c in corpora}
        if "hermes" in chosen and not args.quick:
            import hermes_corpus

            for release in hermes_corpus.RELEASES:
                result = hermes_corpus.bench(release, work, args.runs, args.jobs)
                key = f"hermes{release.replace('.', '')}"
                blocks[key] = hermes_corpus.block(info, result, args.runs, args.jobs)
    write_section(args.results, blocks)
    print("\n\n".join(blocks.values()))


if __name__ == "__main__":
    main()
