"""Real task boards from PyPI, hand-labelled: the lint must see what a reader sees.

Per project of tests/corpus/projects (docs/corpus.md): (a) with its pack, exactly
the labelled findings; (b) with nothing sanctioned, every claim write reported;
(c) the pre-filter changes nothing. A project's known gaps turn (a) or (b) into
a strict expected failure that names them, and only when they explain the whole
difference. Each project is downloaded and unpacked once (the test cache) and
linted once per pack variant per session.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from support import pypi
from support.corpus import Project, load_project, load_projects
from support.labels import KnownGaps, check_claims_seen, check_findings, gap_reason
from support.linting import comparable, run_case

from kanban_audit.linter.findings import LintResult
from kanban_audit.rulepack import load_pack

PROJECTS = load_projects()
PACK, UNSANCTIONED, UNFILTERED = "pack", "nothing sanctioned", "pack, no pre-filter"
Lint = Callable[[Project, str], LintResult]


def lint(project: Project, variant: str) -> LintResult:
    """The project's lint paths, linted from the unpacked root with its pack (or a variant)."""
    pack = load_pack(project.pack)
    if variant == UNSANCTIONED:
        pack = replace(pack, lint=replace(pack.lint, sanctioned=()))
    targets = [Path(p) for p in project.lint]
    root = pypi.unpacked(project.pin)
    return run_case(root, targets, pack=pack, prefilter=variant != UNFILTERED)


@pytest.fixture(scope="session")
def linted() -> Lint:
    """Each (project, variant) linted once per session; a copy with other labels but the
    same file, pack and paths shares the run."""
    runs: dict[tuple, LintResult] = {}

    def get(project: Project, variant: str) -> LintResult:
        key = (project.pin, project.pack.read_bytes(), project.lint, variant)
        if key not in runs:
            runs[key] = lint(project, variant)
        return runs[key]

    return get


def params(*gap_kinds: str) -> list:
    """One case per project, a strict expected failure (of KnownGaps only) if it lists
    gaps of these kinds."""
    out = []
    for project in PROJECTS:
        gaps = project.gaps_of(*gap_kinds)
        marks = [pytest.mark.xfail(raises=KnownGaps, strict=True, reason=gap_reason(gaps))]
        out.append(pytest.param(project, id=project.id, marks=marks if gaps else []))
    return out


def test_the_corpus_holds_projects() -> None:
    assert PROJECTS, "tests/corpus/projects holds no project.toml"
    assert all(p.claims for p in PROJECTS), [p.id for p in PROJECTS if not p.claims]


@pytest.mark.parametrize("project", params("missed", "false", "misplaced"))
def test_exactly_the_labelled_findings(project: Project, linted: Lint) -> None:
    check_findings(project, linted(project, PACK))


@pytest.mark.parametrize("project", params("claim-unseen"))
def test_every_claim_write_is_seen_with_nothing_sanctioned(project: Project, linted: Lint) -> None:
    check_claims_seen(project, linted(project, UNSANCTIONED))


@pytest.mark.parametrize("project", PROJECTS, ids=[p.id for p in PROJECTS])
def test_the_prefilter_drops_nothing_that_matters(project: Project, linted: Lint) -> None:
    """Parsing every file gives exactly the findings the pre-filtered run gives."""
    filtered, everything = linted(project, PACK), linted(project, UNFILTERED)
    assert everything.files_parsed >= filtered.files_parsed
    assert comparable(filtered) == comparable(everything)


def mislabelled(project: Project, folder: Path, drop: bool) -> Project:
    """A copy of the project whose labels lose their first [[finding]] (`drop`), or gain
    one at the first claim write that the run does not report."""
    shutil.copytree(project.folder, folder)
    source = folder / "project.toml"
    text = source.read_text(encoding="utf-8")
    if drop:
        start = re.search(r"^\[\[finding\]\]", text, re.M).start()
        end = re.compile(r"^\[", re.M).search(text, start + 1)
        text = text[:start] + (text[end.start() :] if end else "")
    else:
        claim = project.claims[0]
        text += (
            f'\n[[finding]]\npath = "{claim.path}"\nline = {claim.line}\ncode = "KA002"\n'
            'why = "a wrong label"\n'
        )
    source.write_text(text, encoding="utf-8")
    return load_project(folder)


def mislabellings() -> list:
    """Remove a label where a project has findings, add one to the first project."""
    if not PROJECTS:
        return []
    out = [pytest.param(PROJECTS[0], False, id=f"{PROJECTS[0].id}-added")]
    fullest = max(PROJECTS, key=lambda p: len(p.findings))
    if fullest.findings:
        out.append(pytest.param(fullest, True, id=f"{fullest.id}-removed"))
    return out


@pytest.mark.parametrize(("project", "drop"), mislabellings())
def test_a_wrong_label_fails_the_check(
    project: Project, drop: bool, linted: Lint, tmp_path: Path
) -> None:
    """The check can fail: a copy with one label too few or too many is an error that
    its gaps do not excuse (an AssertionError, not KnownGaps)."""
    copy = mislabelled(project, tmp_path / project.id, drop)
    assert len(copy.findings) == len(project.findings) + (-1 if drop else 1)
    with pytest.raises(AssertionError, match="findings differ from the labels"):
        check_findings(copy, linted(copy, PACK))
