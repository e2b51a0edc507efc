"""SQL kept in the project's own `.sql` files: a pack sanctions an SQL function by
name, an edited file is read again through the cache, and a file the lint must not
read (outside the tree, not UTF-8, a link out) is a text not known here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.cli import run_json

from kanban_audit.linter.sqlfiles import MAX_SQL_BYTES
from kanban_audit.linter.sqlfunctions import defined_functions

PACK = """\
[tasks]
table = "jobs"
status = "state"
guarded = "doing"

[lint]
sanctioned = ["fetch_job", "{sanctioned}"]
"""

SCHEMA = """\
CREATE FUNCTION take_job(p_worker bigint) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs SET state = 'doing', worker = p_worker WHERE state = 'todo';
    RETURN 1;
END;
$$;
"""

WORKER = """\
from pathlib import Path

SQL = Path(__file__).parent / "sql"


def fetch_job(conn, worker):
    return conn.execute("SELECT take_job(%s)", (worker,))


def steal_job(conn, worker):
    return conn.execute("SELECT * FROM take_job(%s)", (worker,))


def retry(conn, job_id):
    conn.execute((SQL / "retry.sql").read_text(), (job_id,))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pack.toml").write_text(PACK.format(sanctioned="other"))
    sql = tmp_path / "jobs" / "sql"
    sql.mkdir(parents=True)
    (tmp_path / "jobs" / "__init__.py").write_text("")
    (tmp_path / "jobs" / "worker.py").write_text(WORKER)
    (sql / "schema.sql").write_text(SCHEMA)
    (sql / "retry.sql").write_text("UPDATE jobs SET state = 'todo' WHERE id = %s;\n")
    return tmp_path


def _found(project: Path, *options: str) -> list[tuple[str, int]]:
    _, report = run_json("lint", "--rules", "pack.toml", *options, cwd=project)
    return [(f["code"], f["line"]) for f in report["findings"]]


@pytest.mark.parametrize("prefilter", [(), ("--no-prefilter",)])
def test_a_call_of_the_function_writes_what_its_body_writes(project: Path, prefilter):
    # fetch_job() is sanctioned; steal_job() calls the same SQL function outside it.
    assert _found(project, "--no-cache", *prefilter) == [("KA001", 11)]


def test_the_pack_sanctions_an_sql_function_by_name(project: Path):
    (project / "pack.toml").write_text(PACK.format(sanctioned="take_job"))
    assert _found(project, "--no-cache") == []


def test_an_edited_sql_file_is_read_again_through_the_cache(project: Path):
    cache = ("--cache-dir", str(project / ".cache"))
    assert _found(project, *cache) == [("KA001", 11)]
    retry = project / "jobs" / "sql" / "retry.sql"
    retry.write_text("UPDATE jobs SET state = 'doing' WHERE id = %s;\n")
    assert _found(project, *cache) == [("KA001", 11), ("KA001", 15)]


def test_a_file_not_read_here_is_a_text_not_known(project: Path, tmp_path_factory):
    """Not UTF-8, too large, a link out of the tree: never read, never a write seen."""
    retry = project / "jobs" / "sql" / "retry.sql"
    retry.write_bytes(b"UPDATE jobs SET state = 'doing' -- \xff\xfe\n")
    assert _found(project, "--no-cache") == [("KA001", 11)]
    padding = "-- " + "x" * 80 + "\n"
    retry.write_text("UPDATE jobs SET state = 'doing' WHERE id = %s;\n" + padding * 13_000)
    assert retry.stat().st_size > MAX_SQL_BYTES
    assert _found(project, "--no-cache") == [("KA001", 11)]
    outside = tmp_path_factory.mktemp("elsewhere") / "retry.sql"
    outside.write_text("UPDATE jobs SET state = 'doing' WHERE id = %s;\n")
    retry.unlink()
    os.symlink(outside, retry)
    assert _found(project, "--no-cache") == [("KA001", 11)]


def test_broken_definitions_are_read_without_failing(project: Path):
    # Unterminated quoting and lists, a definition with no body, a call with no end:
    # nothing is known of them, nothing fails, the rest is read as before.
    broken = "CREATE FUNCTION take_job(\nCREATE FUNCTION f(a int) RETURNS int AS $x$ open\n"
    (project / "jobs" / "sql" / "broken.sql").write_text(broken + "SELECT take_job(1")
    assert _found(project, "--no-cache") == [("KA001", 11)]


@pytest.mark.parametrize(
    "spelling",
    ["CREATE OR REPLACE FUNCTION", "create /* v2 */ or -- again\n replace\tfunction"],
)
def test_a_definition_is_found_whatever_lies_between_its_words(spelling: str):
    text = f"{spelling} take(p text) RETURNS void AS $$ UPDATE jobs SET status = p $$ LANGUAGE sql;"
    assert [(f.name, f.params) for f in defined_functions(text)] == [("take", ("p",))]
    assert defined_functions(text.replace("FUNCTION", "TABLE").replace("function", "table")) == []


@pytest.mark.parametrize(
    "folder",
    ['Path(__file__).parent / "sql"', 'os.path.join(os.path.dirname(__file__), "sql")'],
    ids=["pathlib", "os.path"],
)
def test_a_module_at_the_top_of_the_tree_reads_the_files_beside_it(tmp_path: Path, folder):
    """`app.py` linted from its own folder: its folder is `.`, not a path not known."""
    (tmp_path / "pack.toml").write_text(PACK.format(sanctioned="other"))
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "retry.sql").write_text("UPDATE jobs SET state = 'doing';\n")
    (tmp_path / "app.py").write_text(
        "import os\nfrom pathlib import Path\n\n"
        f"SQL = {folder}\n\n\n"
        "def retry(conn):\n"
        '    conn.execute(open(os.path.join(SQL, "retry.sql")).read())\n'
    )
    assert _found(tmp_path, "--no-cache") == [("KA001", 8)]
