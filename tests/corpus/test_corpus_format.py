"""A project folder that breaks the corpus format is an error naming the file and key;
gaps explain a difference between labels and findings only when they are exactly it."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.corpus import CorpusError, Gap, load_project
from support.labels import Difference, unexplained

HEAD = """[project]
name = "board"
version = "1.0"
file = "board-1.0-py3-none-any.whl"
sha256 = "%s"
writes_by = "sql"
driver = "sqlite3"
lint = ["board"]
summary = "a board"
""" % ("ab" * 32)
WRITE = """
[[write]]
path = "board/core.py"
line = 10
function = "Queue.claim"
claim = true
value = "'running' literal"
why = "the claim"
"""


def folder(tmp_path: Path, text: str, pack: bool = True) -> Path:
    place = tmp_path / "board"
    place.mkdir(parents=True)
    (place / "project.toml").write_text(text)
    if pack:
        (place / "pack.toml").write_text('[tasks]\ntable = "t"\nstatus = "s"\nguarded = "r"\n')
    return place


def test_a_valid_project_loads(tmp_path: Path) -> None:
    project = load_project(folder(tmp_path, HEAD + WRITE))
    assert project.id == "board" and project.lint == ("board",)
    assert project.claims[0].line == 10 and project.findings == () and project.gaps == ()
    assert project.pin.requirement == "board==1.0"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (HEAD.replace('driver = "sqlite3"\n', ""), r"\[project\]: missing key 'driver'"),
        (HEAD + WRITE.replace("claim = true\n", ""), r"\[\[write\]\] #1: missing key 'claim'"),
        (HEAD + WRITE.replace("claim = true", 'claim = "yes"'), r"claim: expected true or false"),
        (HEAD + WRITE.replace("line = 10", 'line = "10"'), r"line: expected a line number"),
        (HEAD + WRITE + "claims = 1\n", r"unknown key 'claims'"),
        (HEAD.replace('"sqlite3"', '"mysql"'), r"'mysql' is not one of sqlite3"),
        (HEAD.replace('"sql"', '"raw"'), r"writes_by: 'raw' is not one of sql, orm"),
        (HEAD.replace("ab" * 32, "abc"), r"sha256: expected 64 lower-case hex digits"),
        (HEAD.replace(".whl", ".zip"), r"\[project\].file: .*a wheel"),
        (HEAD.replace('["board"]', "[]"), r"lint: expected a non-empty list"),
        (HEAD.replace('["board"]', '["../x"]'), r"'../x' is not a plain relative path"),
        (
            HEAD + WRITE + '[[finding]]\npath = "board/core.py"\nline = 3\ncode = "KA009"\n'
            'why = "w"\n',
            r"code: 'KA009' is not one of KA001, KA002",
        ),
        (
            HEAD + WRITE + '[[gap]]\nkind = "lost"\npath = "board/core.py"\nline = 3\n'
            'reason = "r"\n',
            r"kind: 'lost' is not one of missed, false",
        ),
        (HEAD + "[[labels]]\n", r"unknown section 'labels'"),
        (
            HEAD + WRITE + 2 * '[[finding]]\npath = "board/core.py"\nline = 3\ncode = "KA002"\n'
            'why = "w"\n',
            r"board/core.py:3 KA002 is listed twice",
        ),
        (
            HEAD + WRITE + '[[gap]]\nkind = "false"\nsanctioned = []\npath = "board/core.py"\n'
            'line = 3\nreason = "r"\n',
            r"with nothing sanctioned a gap is a missed claim write",
        ),
        ("[project\n", r"cannot read"),
    ],
)
def test_a_broken_project_names_its_file_and_key(tmp_path: Path, text: str, error: str) -> None:
    place = folder(tmp_path, text)
    with pytest.raises(CorpusError, match=error) as caught:
        load_project(place)
    assert str(place / "project.toml") in str(caught.value)


@pytest.mark.parametrize("run", ["unsanctioned = true", "sanctioned = []"])
def test_a_missed_gap_of_the_unsanctioned_run_is_a_claim_unseen(tmp_path: Path, run: str) -> None:
    text = f'[[gap]]\nkind = "missed"\n{run}\npath = "board/core.py"\nline = 10\nreason = "r"\n'
    project = load_project(folder(tmp_path, HEAD + WRITE + text))
    assert project.gaps == (Gap("claim-unseen", "board/core.py", 10, "r"),)


def test_a_missed_gap_at_a_claim_write_without_a_finding_is_a_claim_unseen(
    tmp_path: Path,
) -> None:
    gap = '[[gap]]\nkind = "missed"\npath = "board/core.py"\nline = {}\nreason = "r"\n'
    found = '[[finding]]\npath = "board/core.py"\nline = 10\ncode = "KA002"\nwhy = "w"\n'
    at_claim = load_project(folder(tmp_path / "a", HEAD + WRITE + gap.format(10)))
    assert [g.kind for g in at_claim.gaps] == ["claim-unseen"]
    labelled = load_project(folder(tmp_path / "b", HEAD + WRITE + found + gap.format(10)))
    elsewhere = load_project(folder(tmp_path / "c", HEAD + WRITE + gap.format(11)))
    assert [g.kind for g in labelled.gaps + elsewhere.gaps] == ["missed", "missed"]


def test_a_project_without_its_pack_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"pack.toml: missing"):
        load_project(folder(tmp_path, HEAD + WRITE, pack=False))


def gap(kind: str, path: str, line: int) -> Gap:
    return Gap(kind, path, line, "why")


def diff(missed: list, false: list) -> Difference:
    return Difference(frozenset(missed), frozenset(false))


def test_gaps_explain_exactly_the_difference() -> None:
    d = diff([("a.py", 3, "KA002")], [("b.py", 7, "KA001")])
    assert unexplained(d, (gap("missed", "a.py", 3), gap("false", "b.py", 7))) == []
    assert unexplained(d, (gap("missed", "a.py", 3),)) == ["reported, not labelled: b.py:7 KA001"]
    assert unexplained(diff([], []), (gap("false", "b.py", 7),)) == [
        "gap false b.py:7 is not in the difference"
    ]
    # A gap of the wrong kind explains nothing.
    assert len(unexplained(d, (gap("false", "a.py", 3), gap("false", "b.py", 7)))) == 2


def test_a_misplaced_gap_takes_both_ends_of_one_code() -> None:
    moved = diff([("a.py", 3, "KA002")], [("a.py", 9, "KA002")])
    assert unexplained(moved, (gap("misplaced", "a.py", 3),)) == []
    assert unexplained(moved, (gap("misplaced", "a.py", 9),)) == []
    other_code = diff([("a.py", 3, "KA002")], [("a.py", 9, "KA001")])
    assert unexplained(other_code, (gap("misplaced", "a.py", 3),)) == [
        "gap misplaced a.py:3 is not in the difference",
        "labelled, not reported: a.py:3 KA002",
        "reported, not labelled: a.py:9 KA001",
    ]
