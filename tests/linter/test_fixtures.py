"""Every fixture's findings are exactly its `# expect:` marks: no misses, no extras."""

from __future__ import annotations

import pytest
from support.linting import comparable

from .harness import Score, cases, expected_marks, found_marks, linted, run_case, service

CASES = cases()


@pytest.mark.parametrize(("root", "targets"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_fixture_findings_match_marks(root, targets):
    result = linted(root, tuple(targets))
    assert result.errors == []
    expected = expected_marks(root, targets)
    found = found_marks(result)
    missing = expected - found
    extra = found - expected
    details = "\n".join(f"{f.path}:{f.line} {f.code} {f.message}" for f in result.findings)
    assert not missing and not extra, f"missing={dict(missing)} extra={dict(extra)}\n{details}"


def test_precision_and_recall_over_all_fixtures():
    """Every mark found, nothing else found: 1.00 and 1.00, printed for the record."""
    score = Score()
    for _, root, targets in CASES:
        result = linted(root, tuple(targets))
        score = score.add(expected_marks(root, targets), found_marks(result))
    print(f"\nlint fixtures: {score}")
    assert (score.precision, score.recall) == (1.0, 1.0), str(score)
    assert score.true > 0


def test_every_positive_fixture_has_a_near_miss_beside_it():
    """Files with marks also hold unmarked functions: the safe versions of the shapes."""
    for _, _root, targets in CASES:
        for path in targets:
            text = path.read_text()
            if "# expect:" in text:
                defs = text.count("\ndef ") + text.count("\n    def ")
                marks = text.count("# expect:")
                assert defs > marks or "near miss" in text or path.parent.name == "svc", path


def test_fixed_service_has_no_findings(tmp_path):
    root = service(tmp_path / "svc", fixed=True)
    targets = sorted(p.relative_to(root) for p in root.rglob("*.py"))
    result = run_case(root, targets)
    assert result.errors == [] and result.findings == []
    assert result.files_parsed == 2  # db.py and api.py were analysed, not skipped


@pytest.mark.parametrize(("root", "targets"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_prefilter_drops_nothing_that_matters(root, targets):
    """Parsing every file gives exactly the findings the pre-filtered run gives."""
    relative = [t.relative_to(root) for t in targets]
    filtered = linted(root, tuple(targets))
    everything = run_case(root, relative, prefilter=False)
    assert everything.files_parsed >= filtered.files_parsed
    assert comparable(filtered) == comparable(everything)
