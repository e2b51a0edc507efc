"""The board sessions the pages show are real: every console block of README.md and
docs/audit.md that runs the auditor (audit, repair, undo, history, guard) is
replayed on the board it shows and must print what the page shows.

Each block has a recipe below: the board it needs, built the way the page says
(`bench/make_board.py` at the pages' clock, the real Hermes 0.19.0 dispatcher
for the stray workers), then the block's own commands, run as written by the
installed command in a shell. Only what cannot be the same on two machines is
normalised (NORMALISED, and a recipe's own `normalised`), each with its reason.
"""

from __future__ import annotations

import contextlib
import getpass
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import agents, boards, hermes, lockholders
from support.sessions import Session, environment, sessions, shell, shows, write_shown_file
from support.tty import run_tty

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", REPO / "docs" / "audit.md"]
BOARD_COMMANDS = ("audit", "repair", "undo", "history", "guard")

# The clock every page's board was built and audited at: 2026-12-01T15:09:20Z.
CLOCK = 1796137760
BOARD_500 = (
    "python bench/make_board.py kanban.db --tasks 500 --running 0.05 --orphan-share 0.3"
    f" --now {CLOCK} > /dev/null"
)
BOARD_1000 = f"python bench/make_board.py --tasks 1000 --now {CLOCK} kanban.db > /dev/null"
REPAIRED = f"kanban-audit repair kanban.db --apply --yes --now {CLOCK} > /dev/null"


@dataclass(frozen=True)
class Rule:
    """A normalisation: `pattern` becomes `into` on both sides, for the reason given."""

    pattern: str
    into: str
    why: str

    def apply(self, text: str) -> str:
        return re.sub(self.pattern, self.into, text, flags=re.M)


NORMALISED = (
    Rule(
        rf"\b{re.escape(socket.gethostname())}\b",
        "vm",
        "the host name (the pages were made on a host named vm): in claim locks, WHY, the"
        " process summary and BY",
    ),
    Rule(
        rf"\b{re.escape(getpass.getuser())}@vm\b",
        "root@vm",
        "who ran a repair or an undo (history's BY column), the pages' runs were root's",
    ),
    Rule(
        r"^(processes scanned on vm): \d+, (\d+ workers? of this board)"
        r"(?:, \d+ unreadable, not judged)?",
        r"\1: N, \2, U unreadable, not judged",
        "how many processes this host runs and how many of them this user may not read",
    ),
    Rule(r'"seconds": [0-9.]+', '"seconds": S', "how long make_board.py took"),
)

ALIGNED = Rule(
    r"(?<=\S)  +(?=\S)",
    "  ",
    "a table column is as wide as its widest cell, and a normalised PID is not as wide"
    " as the one it stands for: cells are compared, not their padding",
)
PIDS = Rule(r"\bworker \d+", "worker PID", "worker process ids (real processes)")
RACE_WHY = (
    "where a repair meets the other process's lock depends on how the two processes are"
    " scheduled: which task, which run, how many repaired before it"
)
RACE = (
    Rule(r"\bt\d{5}\b", "tNNNNN", RACE_WHY),
    Rule(r"\brun #\d+", "run #N", RACE_WHY),
    Rule(r"\b(repaired|skipped) \d+\b", r"\1 N", RACE_WHY),
)
COLOUR = Rule(r"\x1b\[[0-9;]*m", "", "colour on a terminal (a page shows plain text)")


@dataclass(frozen=True)
class Recipe:
    """What a block needs: its board, processes alive while it runs, a terminal."""

    first: str  # the block's first command: a recipe never replays another block
    setup: tuple[str, ...] = ()  # shell lines that build the board (output not compared)
    processes: Callable[[Path], contextlib.AbstractContextManager[None]] | None = None
    columns: int | None = None  # kanban-audit runs on a terminal this wide
    normalised: tuple[Rule, ...] = ()


@contextlib.contextmanager
def hermes_strays(folder: Path) -> Iterator[None]:
    """README's stray workers: Hermes 0.19.0's real dispatcher spawned four workers, then a
    task was blocked, one archived, one blocked, unblocked and dispatched again. Hermes'
    clock starts at the pages' and its ids are seeded, so the board is the page's."""
    (folder / "agent").mkdir()
    agent = agents.install(folder / "agent")
    env = {**agents.environment(agent, folder), "DRIVER_CLOCK": str(CLOCK), "DRIVER_SEED": "22"}
    try:
        results = hermes.drive("0.19.0", folder, *agents.stray_steps("running"), env=env)
        assert all(r.get("ok") not in (None, False) for r in results), results
        yield
    finally:
        agents.end_workers([folder])


@contextlib.contextmanager
def lock_met_midway(folder: Path) -> Iterator[None]:
    """A board of 3000 orphans, and a process that takes its write lock after the first
    repairs, as a dispatcher would."""
    boards.orphans(folder / "busy.db", 3000, now=CLOCK)
    holder = lockholders.midway(folder / "busy.db", "writes")
    try:
        yield
    finally:
        holder.kill()
        holder.communicate()


@contextlib.contextmanager
def lock_held(folder: Path) -> Iterator[None]:
    """pristine.db's write lock held by another connection for the whole block."""
    holder = sqlite3.connect(folder / "pristine.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.close()


RECIPES: dict[str, Recipe] = {
    "README.md#8": Recipe(f"python bench/make_board.py --tasks 1000 --now {CLOCK} kanban.db"),
    "README.md#9": Recipe(
        f"kanban-audit audit kanban.db --now {CLOCK + 150}",
        processes=hermes_strays,
        normalised=(PIDS, ALIGNED),
    ),
    "README.md#10": Recipe("kanban-audit guard status kanban.db", (BOARD_1000, REPAIRED)),
    "docs/audit.md#1": Recipe(
        f"kanban-audit audit srv/profiles/coder --all-boards --now {CLOCK}",
        (
            "mkdir -p srv/profiles/coder srv/kanban/boards/ops",
            f"python bench/make_board.py srv/kanban.db --tasks 20 --running 0 --now {CLOCK}",
            "python bench/make_board.py srv/kanban/boards/ops/kanban.db --tasks 20"
            f" --running 0.05 --now {CLOCK}",
        ),
    ),
    "docs/audit.md#2": Recipe(f"kanban-audit audit kanban.db --now {CLOCK}", (BOARD_500,)),
    "docs/audit.md#3": Recipe(
        f"kanban-audit audit kanban.db --now {CLOCK}", (BOARD_500,), columns=100
    ),
    "docs/audit.md#4": Recipe("cat pyproject.toml", (BOARD_500,)),
    "docs/audit.md#5": Recipe(
        f"kanban-audit repair kanban.db --now {CLOCK} | tail -2", (BOARD_500,)
    ),
    "docs/audit.md#6": Recipe(
        f"kanban-audit repair kanban.db --apply --now {CLOCK} < /dev/null > /dev/null",
        (BOARD_500,),
    ),
    "docs/audit.md#7": Recipe(
        "kanban-audit repair kanban.db --apply --yes --now 1796130000", (BOARD_500,)
    ),
    "docs/audit.md#8": Recipe(
        f"kanban-audit repair kanban.db --apply --yes --now {CLOCK} > out.txt; echo $?",
        (BOARD_500,),
    ),
    "docs/audit.md#9": Recipe(
        f"kanban-audit repair kanban.db --apply --yes --now {CLOCK} | tail -2",
        (BOARD_500, REPAIRED),
    ),
    "docs/audit.md#10": Recipe(
        "kanban-audit repair busy.db --apply --yes --busy-timeout 0"
        f" --now {CLOCK} > out.txt; echo $?",
        processes=lock_met_midway,
        normalised=RACE,
    ),
    "docs/audit.md#11": Recipe(
        f"kanban-audit undo t_00000060 kanban.db --yes --now {CLOCK + 3600}",
        (BOARD_500, REPAIRED),
    ),
    "docs/audit.md#12": Recipe(
        'sqlite3 kanban.db "DROP TRIGGER kanban_audit_guard_v1_update"',
        (BOARD_1000, REPAIRED, "kanban-audit guard install kanban.db --yes > /dev/null"),
    ),
    "docs/audit.md#13": Recipe(
        "kanban-audit audit missing.db",
        (
            BOARD_500,
            BOARD_500.replace("kanban.db", "pristine.db"),
            "mkfifo pipe.db",
            "echo '{}' > meta.json",
        ),
        processes=lock_held,
    ),
}


def _runs_the_auditor(session: Session) -> bool:
    return any(c[:1] == ["kanban-audit"] and c[1] in BOARD_COMMANDS for c in session.commands)


CASES = [case for page in PAGES for case in sessions(page, REPO, _runs_the_auditor)]


def test_every_board_session_has_its_recipe() -> None:
    assert sorted(case.where for case in CASES) == sorted(RECIPES)
    for case in CASES:
        assert case.steps[0].command == RECIPES[case.where].first, case.where


def _normalise(text: str, rules: tuple[Rule, ...]) -> str:
    for rule in (*NORMALISED, *rules):
        text = rule.apply(text)
    return text


def replay(session: Session, recipe: Recipe, folder: Path) -> list[str]:
    """Build the board, run the block; the steps whose output is not what the page shows."""
    (folder / "bench").symlink_to(REPO / "bench")
    env = {k: v for k, v in environment(HOME=str(folder)).items() if not k.startswith("HERMES_")}
    for line in recipe.setup:
        code, out = shell(line, folder, env)
        assert code == 0, f"recipe: $ {line}\n{out}"
    wrong = []
    with recipe.processes(folder) if recipe.processes else contextlib.nullcontext():
        status = 0
        for step in session.steps:
            if write_shown_file(step, folder):
                continue
            argv = step.command.split()
            if recipe.columns and argv[0] == "kanban-audit":
                run = run_tty(*argv[1:], columns=recipe.columns, cwd=folder, env=env)
                status, shown = run.code, COLOUR.apply(run.tty).rstrip("\n")
            else:
                status, shown = shell(step.command, folder, env, status)
            expected = _normalise(step.expected, recipe.normalised)
            if not shows(expected, _normalise(shown, recipe.normalised)):
                wrong.append(f"$ {step.command}\n{shown}")
    return wrong


@pytest.mark.parametrize("session", CASES, ids=[case.where for case in CASES])
def test_a_board_session_prints_what_the_page_shows(tmp_path: Path, session: Session) -> None:
    wrong = replay(session, RECIPES[session.where], tmp_path)
    assert not wrong, "\n\n".join(wrong)


def test_an_edited_line_of_a_page_fails(tmp_path: Path) -> None:
    """The test of the test: one changed character in a shown line is a failure."""
    case = next(c for c in CASES if c.where == "docs/audit.md#2")
    first = case.steps[0]
    edited = first.expected.replace("9 repairable", "8 repairable")
    assert edited != first.expected
    session = Session(case.where, (type(first)(first.command, edited), *case.steps[1:]))
    assert len(replay(session, RECIPES[case.where], tmp_path)) == 1
