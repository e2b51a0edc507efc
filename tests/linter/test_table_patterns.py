"""A pack may name its table by a glob pattern: writes to every table it matches are
judged, tables it does not match are not, with the pre-filter and without."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli import run_json

PACK = """\
[tasks]
table = "*jobs"
status = "state"
guarded = "doing"

[lint]
sanctioned = ["claim"]
"""

QUEUE = """\
from psycopg import sql

PREFIX = "app_"


def claim(conn, job_id):
    query = sql.SQL("UPDATE {jobs} SET state = %s WHERE id = %s AND state = 'todo'").format(
        jobs=sql.Identifier(f"{PREFIX}jobs")
    )
    conn.execute(query, ("doing", job_id))


def retry(conn, job_id):
    conn.execute(f"UPDATE {PREFIX}jobs SET state = 'doing' WHERE id = %s", (job_id,))


def finish(conn, job_id):
    conn.execute(f"UPDATE {PREFIX}jobs SET state = 'done' WHERE id = %s", (job_id,))


def log(conn, job_id):
    conn.execute(f"UPDATE {PREFIX}jobs_log SET state = 'doing' WHERE id = %s", (job_id,))


def archive(conn, job_id):
    conn.execute("UPDATE old_jobs SET state = 'doing' WHERE id = %s", (job_id,))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pack.toml").write_text(PACK)
    package = tmp_path / "queue"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "store.py").write_text(QUEUE)
    return tmp_path


@pytest.mark.parametrize("prefilter", [(), ("--no-prefilter",)])
def test_a_pattern_takes_every_table_it_matches(project: Path, prefilter: tuple[str, ...]):
    code, report = run_json("lint", "--rules", "pack.toml", "--no-cache", *prefilter, cwd=project)
    found = [(f["code"], f["path"], f["line"]) for f in report["findings"]]
    # retry() outside the claim path and the old table the pattern also matches;
    # claim() is sanctioned, jobs_log is another table, 'done' is not the guarded state.
    assert found == [("KA001", "queue/store.py", 14), ("KA001", "queue/store.py", 26)]
    assert code == 1


def test_with_nothing_sanctioned_the_claim_is_reported(project: Path):
    pack = project / "pack.toml"
    pack.write_text(PACK.replace('sanctioned = ["claim"]', "sanctioned = []"))
    _, report = run_json("lint", "--rules", "pack.toml", "--no-cache", cwd=project)
    assert ("KA001", 10) in [(f["code"], f["line"]) for f in report["findings"]]
