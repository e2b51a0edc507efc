"""Run the lint on an annotated fixture tree and compare with its `# expect:` marks."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from support.linting import run_case

from kanban_audit.linter.findings import LintResult

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
EXAMPLE = REPO / "examples" / "board_service"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>KA\d{3}(?:\s*,\s*KA\d{3})*)")


def expected_marks(root: Path, files: list[Path]) -> Counter:
    marks: Counter = Counter()
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = EXPECT.search(line)
            if match:
                for code in match.group("codes").split(","):
                    marks[(path.relative_to(root).as_posix(), number, code.strip())] += 1
    return marks


def found_marks(result: LintResult) -> Counter:
    return Counter((f.path, f.line, f.code) for f in result.findings)


@dataclass(frozen=True)
class Score:
    """Findings against marks, over any number of fixtures."""

    true: int = 0  # marked and found
    extra: int = 0  # found on a line with no mark
    missed: int = 0  # marked and not found

    def add(self, expected: Counter, found: Counter) -> Score:
        return Score(
            self.true + sum((expected & found).values()),
            self.extra + sum((found - expected).values()),
            self.missed + sum((expected - found).values()),
        )

    @property
    def precision(self) -> float:
        return self.true / (self.true + self.extra) if self.true + self.extra else 1.0

    @property
    def recall(self) -> float:
        return self.true / (self.true + self.missed) if self.true + self.missed else 1.0

    def __str__(self) -> str:
        return (
            f"precision {self.precision:.2f} recall {self.recall:.2f} "
            f"({self.true} marks found, {self.extra} extra, {self.missed} missed)"
        )


@cache
def linted(root: Path, targets: tuple[Path, ...]) -> LintResult:
    """One fixture's lint (pre-filtered), shared by the tests that read it."""
    return run_case(root, [t.relative_to(root) for t in targets])


def cases() -> list[tuple[str, Path, list[Path]]]:
    """(id, root, targets): each single file alone, each package tree whole."""
    single = FIXTURES / "lint" / "single"
    out = [(f"single/{p.name}", single, [p]) for p in sorted(single.glob("*.py"))]
    for tree in sorted((FIXTURES / "lint" / "packages").iterdir()):
        # The tree's own SQL files are analysed with it (SQL the code reads).
        files = sorted([*tree.rglob("*.py"), *tree.rglob("*.sql")])
        out.append((f"packages/{tree.name}", tree, files))
    out.append(("examples/board_service", EXAMPLE, sorted(EXAMPLE.rglob("*.py"))))
    return out


def service(dest: Path, fixed: bool = False) -> Path:
    """A copy of the bundled board service; `fixed` swaps in the corrected handlers."""
    shutil.copytree(EXAMPLE, dest)
    if fixed:
        shutil.copy(FIXTURES / "service_fixed_api.py", dest / "board" / "api.py")
    return dest
