"""Names from the tree cannot forge output: no line, no escape sequence, no CI command.

A pull request can name a file or a folder anything a file system allows: a
newline followed by a GitHub workflow command, or an escape sequence that
clears the terminal or sets its title, or a right-to-left override that shows
the rest of the name reversed. Every text output (the text format the
pre-commit hook prints, `--statistics`, `--format github`, the warnings and
errors on stderr) shows such a name with its control characters escaped; the
JSON formats carry it exactly.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.cli import run_cli

from kanban_audit.terminal import printable

# A right-to-left override last: shown raw, it would reverse the rest of the name.
FORGED = "\n::error file=api.py,line=1::forged\x1b]0;owned\x07\x1b[2J\x9b\u202e"
NAME = f"x{FORGED}.py"
FOLDER = f"d{FORGED}"
WRITE = "def f(conn):\n    conn.execute(\"UPDATE tasks SET status = 'running'\")\n"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain é ü 漢 \\ %", "plain é ü 漢 \\ %"),
        ("a\nb\r\tc", "a\\nb\\r\\tc"),
        ("\x00\x1b[2J\x7f", "\\x00\\x1b[2J\\x7f"),
        ("\x80\x9b\x9f\xa0", "\\u0080\\u009b\\u009f\xa0"),
    ],
)
def test_printable_escapes_control_characters_and_nothing_else(text: str, shown: str) -> None:
    assert printable(text) == shown


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A git repository with a hostile file name, and a folder whose name is hostile
    holding an ignore file the walk warns about and a file that cannot be parsed."""
    (tmp_path / NAME).write_text(WRITE)
    (tmp_path / FOLDER).mkdir()
    (tmp_path / FOLDER / ".gitignore").write_text("*a*a*a*a*a*b\n")
    (tmp_path / FOLDER / "broken.py").write_text(f"{WRITE}def g(:\n")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    return tmp_path


def _no_control_characters(text: str) -> None:
    """Only the newlines that end lines; no escape sequence, no carriage return, no
    bidirectional override."""
    assert not any(c in text for c in "\x1b\x07\r\x9b\u202e"), repr(text)


@pytest.mark.parametrize("args", [(), ("--statistics",)], ids=["text", "statistics"])
def test_the_text_format_escapes_names_from_the_tree(tree: Path, args: tuple[str, ...]) -> None:
    done = run_cli("lint", "--no-cache", *args, cwd=tree)
    assert done.returncode == 2, done.stderr
    for out in (done.stdout, done.stderr):
        _no_control_characters(out)
        assert not any(line.startswith("::") for line in out.splitlines()), out
    shown = printable(FOLDER)
    assert f"{shown}/broken.py:3:7: error: syntax error: invalid syntax" in done.stdout
    assert done.stderr == (
        f"kanban-audit: warning: {shown}/.gitignore: line 1: more than 3 wildcards, not applied\n"
    )
    if not args:
        assert f"{printable(NAME)}:2:5: KA001 " in done.stdout


def test_github_commands_stay_one_line_each_and_escape_their_values(tree: Path) -> None:
    done = run_cli("lint", "--no-cache", "--format", "github", cwd=tree)
    assert done.returncode == 2
    _no_control_characters(done.stdout + done.stderr)
    lines = done.stdout.splitlines()
    assert len(lines) == 2  # the finding and the syntax error
    assert all(line.startswith("::error file=") for line in lines), lines
    finding = next(line for line in lines if "KA001" in line)
    # Property values: `,` and `:` escaped; the escaped name keeps no raw newline.
    assert finding.startswith("::error file=x\\n%3A%3Aerror file=api.py%2Cline=1%3A%3Aforged")
    (warning,) = done.stderr.splitlines()
    assert warning.startswith(f"kanban-audit: warning: {printable(FOLDER)}/.gitignore: ")


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_formats_carry_the_exact_name(tree: Path, fmt: str) -> None:
    done = run_cli("lint", "--no-cache", "--format", fmt, cwd=tree)
    _no_control_characters(done.stdout)
    data = json.loads(done.stdout)
    if fmt == "json":
        assert NAME in [f["path"] for f in data["findings"]]
    else:
        uris = [
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in data["runs"][0]["results"]
        ]
        assert any(uri.startswith("x%0A%3A%3Aerror") for uri in uris), uris


def test_an_error_naming_a_hostile_path_is_one_escaped_line(tmp_path: Path) -> None:
    done = run_cli("lint", f"missing{FORGED}.py", cwd=tmp_path)
    assert done.returncode == 2
    assert (
        done.stderr
        == f"kanban-audit: error: missing{printable(FORGED)}.py: no such file or directory\n"
    )
