"""A write whose SQL is one of many texts: those that may write the status column
are followed first, so a hundred updates of other columns chosen on an `elif`
chain cannot crowd out the one text that writes the guarded state."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.cli import run_cli

TEXTS = 100  # more than the texts one write follows (templates.MAX_TEMPLATES)


def lint(tmp_path: Path, last: str) -> subprocess.CompletedProcess[str]:
    lines = ["def update(conn, task_id, k):"]
    for n in range(TEXTS):
        lines += [
            f"    {'if' if n == 0 else 'elif'} k == {n}:",
            f'        sql = "UPDATE tasks SET note_{n} = ? WHERE id = ?"',
        ]
    lines += ["    else:", f'        sql = "{last}"', "    conn.execute(sql, (task_id,))", ""]
    (tmp_path / "notes.py").write_text("\n".join(lines))
    return run_cli("lint", "--isolated", "--no-cache", "notes.py", cwd=tmp_path, timeout=60)


def test_the_status_text_among_a_hundred_others_is_judged(tmp_path: Path) -> None:
    done = lint(tmp_path, "UPDATE tasks SET status = 'running' WHERE id = ?")
    assert done.returncode == 1, done.stderr
    assert "notes.py:" in done.stdout and " KA001 status 'running'" in done.stdout


def test_a_safe_status_text_among_a_hundred_others_passes(tmp_path: Path) -> None:
    done = lint(tmp_path, "UPDATE tasks SET status = 'done' WHERE id = ?")
    assert (done.returncode, done.stdout.strip()) == (0, "All checks passed."), done.stderr


def lint_states(tmp_path: Path, states: list[str]) -> subprocess.CompletedProcess[str]:
    """One write whose text is chosen on an `elif` chain, each text writing a status."""
    lines = ["def move(conn, task_id, k):"]
    for n, state in enumerate(states):
        lines += [
            f"    {'if' if n == 0 else 'elif'} k == {n}:",
            f"        sql = \"UPDATE tasks SET status = '{state}' WHERE id = ? AND step = {n}\"",
        ]
    lines += ["    else:", "        return", "    conn.execute(sql, (task_id,))", ""]
    (tmp_path / "moves.py").write_text("\n".join(lines))
    return run_cli("lint", "--isolated", "--no-cache", "moves.py", cwd=tmp_path, timeout=60)


STATES = 70  # status texts, more than one write follows


def test_a_running_text_cut_from_seventy_status_texts_is_reported(tmp_path: Path) -> None:
    done = lint_states(tmp_path, ["done"] * (STATES - 1) + ["running"])
    assert done.returncode == 1, done.stderr
    assert "moves.py:" in done.stdout and " KA002 " in done.stdout
    assert "analysis budget exceeded" in done.stdout


def test_a_running_text_kept_among_seventy_status_texts_is_a_bug(tmp_path: Path) -> None:
    done = lint_states(tmp_path, ["running"] + ["done"] * (STATES - 1))
    assert done.returncode == 1, done.stderr
    assert " KA001 status 'running'" in done.stdout


def test_seventy_safe_literal_status_texts_cut_are_read_and_pass(tmp_path: Path) -> None:
    """A text cut that sets the column to a plain safe literal is proven safe as it is."""
    done = lint_states(tmp_path, ["done"] * STATES)
    assert (done.returncode, done.stdout.strip()) == (0, "All checks passed."), done.stderr


def test_seventy_status_texts_from_placeholders_are_not_proven_safe(tmp_path: Path) -> None:
    """Texts cut unread that bind the column from a placeholder are not passed silently."""
    lines = ["def move(conn, task_id, k, state):"]
    for n in range(STATES):
        lines += [
            f"    {'if' if n == 0 else 'elif'} k == {n}:",
            f'        sql = "UPDATE tasks SET status = ?, step_{n} = 1 WHERE id = ?"',
        ]
    lines += ["    else:", "        return", "    conn.execute(sql, (state, task_id))", ""]
    lines += ["def finish(conn, task_id, k):", "    move(conn, task_id, k, 'done')", ""]
    (tmp_path / "moves.py").write_text("\n".join(lines))
    done = run_cli("lint", "--isolated", "--no-cache", "moves.py", cwd=tmp_path, timeout=60)
    assert done.returncode == 1, done.stderr
    assert " KA002 " in done.stdout and "analysis budget exceeded" in done.stdout


def test_sixty_four_safe_status_texts_pass(tmp_path: Path) -> None:
    done = lint_states(tmp_path, ["done", "blocked"] * 32)
    assert (done.returncode, done.stdout.strip()) == (0, "All checks passed."), done.stderr


def test_many_identifiers_given_to_a_fetch_method_are_no_write(tmp_path: Path) -> None:
    """`fetch` is an SQL method (asyncpg), but seventy names built from parts not known
    here are no SQL about the board: nothing to judge, with or without the pre-filter."""
    lines = ["def get(client, base, k):"]
    for n in range(70):
        lines += [f"    {'if' if n == 0 else 'elif'} k == {n}:", f'        name = f"{{base}}/{n}"']
    lines += ["    return client.fetch(name)", "", "def write(conn, t):"]
    lines += ["    conn.execute(\"UPDATE tasks SET status = 'done' WHERE id = ?\", (t,))", ""]
    (tmp_path / "hub.py").write_text("\n".join(lines))
    for mode in ([], ["--no-prefilter"]):
        done = run_cli("lint", "--isolated", "--no-cache", *mode, "hub.py", cwd=tmp_path)
        assert (done.returncode, done.stdout.strip()) == (0, "All checks passed."), done.stdout


def lint_padded(tmp_path: Path, sql: str) -> subprocess.CompletedProcess[str]:
    """A write whose text is joined from a short statement and a comment longer than
    the lint reads (templates.MAX_TEXT)."""
    pad = "-- " + "x" * 25_000
    body = f'    conn.execute("{sql}" + PAD, (task_id,))'
    source = f'PAD = "\\n{pad}"\n\n\ndef move(conn, task_id):\n{body}\n'
    (tmp_path / "padded.py").write_text(source)
    return run_cli("lint", "--isolated", "--no-cache", "padded.py", cwd=tmp_path, timeout=60)


def test_a_status_write_padded_past_what_is_read_is_reported(tmp_path: Path) -> None:
    done = lint_padded(tmp_path, "UPDATE tasks SET status = 'running' WHERE id = ?")
    assert done.returncode == 1, done.stderr
    assert "padded.py:5:" in done.stdout and " KA002 " in done.stdout
    assert "a text longer than 20000 characters" in done.stdout


def test_a_padded_write_of_another_table_passes(tmp_path: Path) -> None:
    done = lint_padded(tmp_path, "UPDATE runs SET ended = 1 WHERE id = ?")
    assert (done.returncode, done.stdout.strip()) == (0, "All checks passed."), done.stderr
