"""Inputs that grow large in one direction: the lint answers in seconds, exactly
where it was exact, whatever the size."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.cli import run_cli

# Far more than the seconds these programs take, far less than a stall.
TIMEOUT = 60
FUNCTIONS = 20_000

WRITER = [
    "def set_status(conn, s, t):",
    '    conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (s, t))',
    "",
    "",
    "def run(conn, t):",
    "    set_status(conn, 'running', t)",
]


def writer_reported(line: int) -> list[str]:
    """What the lint says of WRITER when its call of the writer is at `line`."""
    return [
        f"big.py:{line}:5: KA001 status 'running' can reach tasks.status via set_status()"
        " outside the claim path",
        f"    big.py:{line}:5: run() calls set_status()",
        f"    big.py:{line - 4}:5: set_status() writes tasks.status (UPDATE)",
        "Found 1 finding (KA001: 1).",
    ]


def lint(tmp_path: Path, lines: list[str]) -> subprocess.CompletedProcess[str]:
    target = tmp_path / "big.py"
    target.write_text("\n".join([*lines, ""]))
    return run_cli("lint", "--isolated", "--no-cache", target.name, cwd=tmp_path, timeout=TIMEOUT)


def test_a_module_of_many_functions_is_linted_promptly(tmp_path: Path) -> None:
    """Each top-level statement is run on the names it mentions, not on a copy of
    every name the module bound before it."""
    functions = [f"def f{i}(conn, t):\n    return {i}\n\n" for i in range(FUNCTIONS)]
    proc = lint(tmp_path, [*functions, *WRITER])
    line = 4 * FUNCTIONS + 6  # four lines a function
    assert proc.stdout.splitlines() == writer_reported(line), proc.stderr
    assert proc.returncode == 1


BRANCHES = 1_600


@pytest.mark.parametrize("start", ["'pending'", "'running'"])
def test_a_long_elif_chain_on_a_parameter_is_linted_promptly(tmp_path: Path, start: str) -> None:
    """`elif o == 'kN':` on one parameter: where the branches meet, `o` is the
    value before the chain again, not every narrowing of it nested once per test."""
    lines = ["def write(conn, t, o):", f"    s = {start}"]
    for i in range(BRANCHES):
        lines += [("    if" if i == 0 else "    elif") + f" o == 'k{i}':", f"        s = 'sk{i}'"]
    lines.append('    conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (s, t))')
    proc = lint(tmp_path, lines)
    line = 2 * BRANCHES + 3
    if start == "'pending'":
        assert (proc.returncode, proc.stdout.strip()) == (0, "All checks passed."), proc.stderr
        return
    assert proc.stdout.splitlines() == [
        f"big.py:{line}:5: KA001 status 'running' can reach tasks.status outside the claim path",
        f"    big.py:{line}:5: write() writes tasks.status (UPDATE)",
        "Found 1 finding (KA001: 1).",
    ], proc.stderr
    assert proc.returncode == 1


# With the cache, fewer (still nesting past Python's default recursion limit when
# the summaries are stored): a chunk holding a long chain is not stored.
@pytest.mark.parametrize(("cache", "rebuilt"), [(False, 1_500), (True, 600)], ids=["no", "cache"])
def test_names_rebuilt_from_themselves_are_linted_promptly(
    tmp_path: Path, cache: bool, rebuilt: int
) -> None:
    """`s = s + ''` and `write = deco(write)`, a thousand times at module level: each
    value holds the one before it, and a name's values are joined (and its chunks
    keyed and stored) without walking each chain once per other."""
    lines = [
        "def deco(f):",
        "    def wrapper(*args):",
        "        return f(*args)",
        "    return wrapper",
        "def write(conn, s):",
        '    conn.execute("UPDATE tasks SET status = ?", (s,))',
        "s = 'runn'",
        *["s = s + ''", "write = deco(write)"] * rebuilt,
        "s = s + 'ing'",
        "def run(conn):",
        "    write(conn, s)",
    ]
    (tmp_path / "big.py").write_text("\n".join([*lines, ""]))
    where = ("--cache-dir", tmp_path / "cache") if cache else ("--no-cache",)
    proc = run_cli("lint", "--isolated", *where, "big.py", cwd=tmp_path, timeout=TIMEOUT)
    line = len(lines)
    assert proc.stdout.splitlines() == [
        f"big.py:{line}:5: KA001 status 'running' can reach tasks.status via write()"
        " outside the claim path",
        f"    big.py:{line}:5: run() calls write()",
        "    big.py:6:5: write() writes tasks.status (UPDATE)",
        "Found 1 finding (KA001: 1).",
    ], proc.stderr
    assert proc.returncode == 1
    if cache:  # growing with the file, not with its square (some 240 times it was)
        stored = sum(f.stat().st_size for f in (tmp_path / "cache").iterdir())
        assert stored < 50 * (tmp_path / "big.py").stat().st_size


def test_a_long_chain_in_one_of_several_files_is_summarised_in_parallel(tmp_path: Path) -> None:
    """Just under the operators the lint reads in one expression: the summary nests
    as deeply, and a worker process hands it back all the same."""
    chain = " + ".join(["'x'"] * 1_400)
    (tmp_path / "chain.py").write_text(
        f"def chained(conn):\n    conn.execute('UPDATE tasks SET status = ' + {chain})\n"
    )
    (tmp_path / "writer.py").write_text("\n".join([*WRITER, ""]))
    proc = run_cli(
        "lint", "--isolated", "--no-cache", "--jobs", "2", ".", cwd=tmp_path, timeout=TIMEOUT
    )
    assert proc.stdout.splitlines() == [
        "writer.py:6:5: KA001 status 'running' can reach tasks.status via set_status()"
        " outside the claim path",
        "    writer.py:6:5: run() calls set_status()",
        "    writer.py:2:5: set_status() writes tasks.status (UPDATE)",
        "Found 1 finding (KA001: 1).",
    ], proc.stderr
    assert proc.returncode == 1


@pytest.mark.parametrize(
    ("opened", "closed"), [("(", ")"), ("CASE WHEN a THEN ", " END")], ids=["parens", "case"]
)
def test_an_sql_value_nested_thousands_deep_is_unknown_promptly(
    tmp_path: Path, opened: str, closed: str
) -> None:
    """Each level of an SQL expression is read by a walk of the whole: past 64
    levels the value is not read (KA002), instead of minutes of walks."""
    value = opened * 5_000 + "'running'" + closed * 5_000
    proc = lint(
        tmp_path, ["def write(conn):", f'    conn.execute("UPDATE tasks SET status = {value}")']
    )
    assert proc.stdout.splitlines() == [
        "big.py:2:5: KA002 unchecked value (SQL expression nested over 64 deep) can reach"
        " tasks.status without a guard excluding 'running'",
        "    big.py:2:5: write() writes tasks.status (UPDATE)",
        "Found 1 finding (KA002: 1).",
    ], proc.stderr
    assert proc.returncode == 1


@pytest.mark.parametrize("add", ["c.parts.append('p{n}')", "c.parts[{n}] = 'p{n}'"])
def test_an_attribute_list_added_to_on_many_branches_is_linted_promptly(
    tmp_path: Path, add: str
) -> None:
    """Another object's list or dict, extended under two hundred `if`s each testing
    it: one view of it, not views nested in views (24 GB and the machine's memory)."""
    lines = ["def build(conn, c, env):"]
    for n in range(200):
        lines += [
            f"    if env.get('k{n}'):",
            f"        if 'p{n}' not in c.parts:",
            f"            {add.format(n=n)}",
        ]
    lines.append("    conn.execute('UPDATE tasks SET ' + ', '.join(c.parts))")
    done = lint(tmp_path, lines)
    assert done.returncode == 1 and " KA002 " in done.stdout, done.stderr


LOOKUPS = 1_500


def test_many_lookups_by_name_do_not_share_one_budget(tmp_path: Path) -> None:
    """`getattr(obj, name)()` in each of many functions: who calls whom is worked out
    with a budget per calling function, not one for the whole program (it ran out
    and the lint stopped with an internal error)."""
    name = "'go' + " + " + ".join(["SUFFIX"] * 30)
    lines = ["SUFFIX = ''", "", "", "class R:", "    def go(self):", "        pass", "", ""]
    for n in range(LOOKUPS):
        lines += [f"def f{n}():", f"    getattr(R(), {name})()", "", ""]
    proc = lint(tmp_path, [*lines, *WRITER])
    assert proc.stdout.splitlines() == writer_reported(len(lines) + 6), proc.stderr
    assert proc.returncode == 1


def test_a_value_doubled_on_many_branches_is_read_in_callers_promptly(tmp_path: Path) -> None:
    """A helper returns a value joined from thirty `if`s that each double it: put
    in its callers' terms once per shared part, not once per path through the parts
    (a billion, and the memory of the machine)."""
    lines = ["class R:", "    def go(self):", "        pass", "", "", "def inner(p, flags):"]
    lines += ["    a = p"]
    for n in range(30):
        lines += [f"    if flags == {n}:", "        a = a + a"]
    lines += ["    return a, p", "", "", "def outer(entry, flags):"]
    lines += ["    return inner(entry, flags)", "", "", "def caller(flags):"]
    lines += ["    x, y = outer(R(), flags)", "    getattr(y, 'go')()", "", ""]
    proc = lint(tmp_path, [*lines, *WRITER])
    assert proc.returncode == 1 and "Found 1 finding (KA001: 1)." in proc.stdout, proc.stderr
