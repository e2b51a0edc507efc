"""The catalogue of codes: one documented entry per code, lint (KA) and audit (KD).

`kanban-audit rules`, `kanban-audit explain CODE`, the SARIF rule metadata,
the finding messages and the validation of `select`/`ignore` all read from
here, so a code is described once. Every entry carries a bad and a good
example; the tests lint (KA) or audit (KD) them, as Fixit does with its
VALID/INVALID examples.
"""

from __future__ import annotations

import difflib
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from kanban_audit.errors import UsageError

LINT = "lint"
AUDIT = "audit"


@dataclass(frozen=True)
class Code:
    """A finding code with the documentation a user needs to act on it.

    `message` is the template of the finding's message (lint: `str.format`
    fields named in the rule; audit: the headline before the evidence).
    Lint examples are Python sources; audit examples are board rows (SQL run
    against a board with the Hermes schema, with the parameters named in
    AUDIT_EXAMPLE_PARAMS).
    """

    code: str
    name: str
    summary: str
    explanation: str
    bad: str
    good: str
    message: str
    engine: str = LINT


def _doc(*sections: str) -> str:
    """Join Markdown sections written indented, so the indent does not leak out."""
    return "\n\n".join(textwrap.dedent(section).strip("\n") for section in sections)


_SUPPRESSION = """\
    ### Suppressing

    When a write is intended (a migration script, a test fixture that builds a
    broken board on purpose), put `# kanban-audit: ignore[{code}]` on the
    reported line or on the first line of its statement, followed by the reason:

        set_status(conn, tid, status)  # kanban-audit: ignore[{code}] builds a broken board

    A suppression that stops matching anything is reported as KA100, so stale
    ones do not pile up. To accept all current findings at once and gate only
    new ones, record a baseline with `--write-baseline FILE` and lint with
    `--baseline FILE`."""

_VALUE_FLOW = """\
    ### How the value is judged

    The lint follows values, not text. At every write to the status column it
    computes the set of strings the value can hold: literals, module
    constants, `Enum` members, both arms of conditional expressions, what
    helper functions return, what dispatch dicts of lambdas produce, and for a
    parameter the union of what every visible caller passes (positional or
    keyword, through `self` and across imports). Guards narrow that set:
    after `if s == "running": raise`, `s` cannot be running; after
    `if s not in ALLOWED: raise`, `s` is one of `ALLOWED`. A guard such as
    `if s in ("todo", "running", "triage")` is proof that `s` *can* be
    running, not a sanitizer.

    Writes inside a sanctioned writer of the rule pack (`claim_task`,
    `claim_review_task` in the Hermes pack), and inside a private helper whose
    every caller is sanctioned, are the claim path and are fine. The same
    helper called from anywhere else is judged at that call."""

_KA001 = Code(
    code="KA001",
    name="running-outside-claim",
    message="{status} {guarded!r} can reach {column}{via} outside the claim path",
    summary="A code path can write the guarded state (running) outside the claim path.",
    explanation=_doc(
        """\
        Some path through the analysed code can write the guarded state
        (`running` in the Hermes pack) to the tasks table's status column, and
        that path does not go through a sanctioned writer such as
        `claim_task`. The finding is reported where the offending value
        enters the path (the outermost call that passes it, or the write
        itself) and its trace lists every hop down to the SQL write.

        ### Why it matters

        Only the claim path may move a task into `running`, because claiming
        is more than a status change: in one transaction it compare-and-swaps
        `ready -> running`, sets `claim_lock` and `claim_expires`, inserts a
        `task_runs` row and points `current_run_id` at it, and the dispatcher
        then spawns a worker and records its PID. A dashboard `PATCH
        /tasks/{id}` handler that accepted `status="running"` and passed it to
        a drag-and-drop helper running `UPDATE tasks SET status = ?` created
        tasks that were `running` with no run, no claim, no expiry and no
        worker: stuck forever, and breaking the run-history invariants.
        The bulk-update endpoint had the same shape.
        """,
        _VALUE_FLOW,
        """\
        ### How to fix

        Reject the guarded state before the write and let only the claim path
        enter it: `if status == "running": raise ...`, or check against an
        allow-list that does not contain it (`if status not in MOVABLE:
        raise ...`). To start a task, call the claim path (`claim_task`)
        instead of writing the status yourself. If a board repair
        (`kanban-audit audit` / `repair`) finds tasks already stuck in
        `running`, demote them with `kanban-audit repair --apply`.
        """,
        _SUPPRESSION.format(code="KA001"),
    ),
    bad=_doc(
        """\
        def patch_task(conn, task_id, body):
            status = body["status"]
            if status in ("todo", "running", "triage"):
                set_status(conn, task_id, status)


        def set_status(conn, task_id, status):
            conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (status, task_id))
        """
    ),
    good=_doc(
        """\
        MOVABLE = ("todo", "triage")


        def patch_task(conn, task_id, body):
            status = body["status"]
            if status == "running":
                raise ValueError("only the dispatcher may start a task")
            if status in MOVABLE:
                set_status(conn, task_id, status)


        def set_status(conn, task_id, status):
            conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (status, task_id))
        """
    ),
)

_KA002 = Code(
    code="KA002",
    name="unchecked-status-write",
    message=(
        "unchecked value ({values}) can reach {column}{via} without a guard excluding {guarded!r}"
    ),
    summary="A status write whose value is unknown and not proven to exclude running.",
    explanation=_doc(
        """\
        A write to the tasks table's status column takes a value the lint
        cannot pin down (request data, a parameter with no visible caller, a
        value read from elsewhere) and nothing on the path proves that it
        excludes the guarded state (`running` in the Hermes pack). The write
        is outside the claim path. The finding is reported where the unknown
        value enters the path, with a trace to the write.

        ### Why it matters

        An unchecked value is how the original bug got in: the dashboard took
        `status` from the request body and handed it to a helper that ran
        `UPDATE tasks SET status = ?`. Whatever a client sends becomes the
        task's state, including `running`, which produces a task with no run,
        no claim and no worker that no sweep will ever pick up. Today's
        callers may never send it; the code does not stop the next one.
        """,
        _VALUE_FLOW,
        """\
        ### How to fix

        Validate the value before it reaches the write, in a way the lint can
        see: reject the guarded state (`if status == "running": raise ...`)
        or narrow to an allow-list (`if status not in MOVABLE: raise ...`),
        or map the input through a dict of known states. A public helper that
        takes the status as a parameter and has no caller in the analysed
        code is judged as receiving anything: guard inside the helper, or
        make it private and call it with checked values.
        """,
        _SUPPRESSION.format(code="KA002"),
    ),
    bad=_doc(
        """\
        def bulk_update(conn, payload):
            for task_id in payload["ids"]:
                conn.execute(
                    "UPDATE tasks SET status = ? WHERE id = ?",
                    (payload["status"], task_id),
                )
        """
    ),
    good=_doc(
        """\
        MOVABLE = ("todo", "triage", "blocked", "done")


        def bulk_update(conn, payload):
            status = payload["status"]
            if status not in MOVABLE:
                raise ValueError(f"cannot move tasks to {status!r}")
            for task_id in payload["ids"]:
                conn.execute("UPDATE tasks SET status = ? WHERE id = ?", (status, task_id))
        """
    ),
)

_KA100 = Code(
    code="KA100",
    name="unused-suppression",
    message="unused suppression: no {what} reported here",
    summary="A `# kanban-audit: ignore[CODE]` comment that suppressed nothing.",
    explanation=_doc(
        """\
        A `# kanban-audit: ignore[CODE]` comment sits on a line where no
        finding with that code was reported, so it suppresses nothing.

        ### Why it matters

        Suppressions are exceptions to the rule that only the claim path may
        put a task into `running`. One that no longer matches (the code was
        fixed, moved, or the comment names the wrong code) is noise at best;
        at worst it sits ready to hide a real bug the next time that line
        changes. Reporting it keeps every exception deliberate and current.

        ### How it is judged

        A suppression applies to findings reported on its own line or on the
        statement whose first line carries it. After the run, every code named
        in a suppression that matched no finding is reported here, at the
        comment.

        ### How to fix

        Delete the comment, or the codes in it that no longer apply. If the
        finding it was meant for is now reported on another line, move the
        comment there.

        ### Turning it off

        To skip this check for a project, add `KA100` to `ignore` in
        `[tool.kanban-audit]` of `pyproject.toml`.
        """
    ),
    bad=_doc(
        """\
        def finish(conn, task_id):
            conn.execute(  # kanban-audit: ignore[KA001] leftover from the old handler
                "UPDATE tasks SET status = 'done' WHERE id = ?", (task_id,)
            )
        """
    ),
    good=_doc(
        """\
        def finish(conn, task_id):
            conn.execute("UPDATE tasks SET status = 'done' WHERE id = ?", (task_id,))
        """
    ),
)

AUDIT_EXAMPLE_PARAMS = (
    "`:now` is the audit's clock, `:host` this machine's host name, `:worker_pid` "
    "a live worker process on it, `:dead_pid` a PID with no process."
)

_AUDIT_FIX = """\
    ### How to fix

    `kanban-audit repair` (a dry run) shows what it would do;
    `kanban-audit repair --apply` does it: a backup first, then one guarded
    transaction per task that demotes it to `ready` (or closes the run), and
    a `reconciled` event recording the evidence. Then find the code that
    wrote the state: `kanban-audit lint` on the board's code base, and
    `kanban-audit guard install` so that the board refuses the write next
    time."""

_KD001 = Code(
    code="KD001",
    name="running-without-open-run",
    message="running task without an open run",
    summary="A running task whose current run is empty, missing, ended or another task's.",
    engine=AUDIT,
    explanation=_doc(
        """\
        The task's status is the guarded state (`running`) but it has no open
        run: `current_run_id` is empty, points to no run, to a run that has
        ended, or to another task's run (on boards without `current_run_id`:
        no open run for the task at all).

        ### Why it matters

        The claim path inserts the run and points the task at it in the same
        transaction that sets `running`. A running task without an open run
        did not come through the claim path (a direct status write, as the
        dashboard bug did), or its run was closed without releasing the task.
        No worker reports on it, no sweep picks it up: it is stuck.
        """,
        _AUDIT_FIX,
    ),
    bad=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at, ended_at, outcome)
            VALUES (7, 't1', 'completed', :now - 30, :now - 10, 'completed');
        INSERT INTO tasks (id, title, status, created_at, started_at,
                           claim_lock, claim_expires, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 900, :now - 30,
                    :host || ':4242', :now + 870, 7);
        """
    ),
    good=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 30);
        INSERT INTO tasks (id, title, status, created_at, started_at,
                           claim_lock, claim_expires, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 900, :now - 30,
                    :host || ':4242', :now + 870, 7);
        """
    ),
)

_KD002 = Code(
    code="KD002",
    name="running-without-claim",
    message="running task without a claim",
    summary="A running task whose claim lock or claim expiry is empty.",
    engine=AUDIT,
    explanation=_doc(
        """\
        The task is running but `claim_lock` or `claim_expires` is empty.

        ### Why it matters

        The claim path sets both in the compare-and-swap that moves the task
        to `running`; the dispatcher's sweeps use them to find claims that
        lapsed. Without them nothing will ever reclaim the task: the write
        that put it into `running` bypassed the claim path.
        """,
        _AUDIT_FIX,
    ),
    bad=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 30);
        INSERT INTO tasks (id, title, status, created_at, started_at, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 900, :now - 30, 7);
        """
    ),
    good=_KD001.good,
)

_KD003 = Code(
    code="KD003",
    name="claim-expired",
    message="running task whose claim has expired",
    summary="A running task whose claim expired longer ago than the grace period.",
    engine=AUDIT,
    explanation=_doc(
        """\
        The task is running and its `claim_expires` lies further in the past
        than the grace period (`--grace`, 120 s by default).

        ### Why it matters

        A live worker renews its claim with heartbeats; a claim that lapsed
        means the worker stopped heartbeating. Repair demotes such a task
        only when no evidence says its worker is alive: a live local process
        keeps it (report only), a claim from another host is KD006.
        """,
        _AUDIT_FIX,
    ),
    bad=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 7200);
        INSERT INTO tasks (id, title, status, created_at, started_at, claim_lock,
                           claim_expires, worker_pid, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 9000, :now - 7200,
                    :host || ':4242', :now - 3600, :worker_pid, 7);
        """
    ),
    good=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 7200);
        INSERT INTO tasks (id, title, status, created_at, started_at, claim_lock,
                           claim_expires, worker_pid, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 9000, :now - 7200,
                    :host || ':4242', :now + 600, :worker_pid, 7);
        """
    ),
)

_KD004 = Code(
    code="KD004",
    name="worker-dead",
    message="running task whose worker is provably dead",
    summary="A running task claimed on this host whose worker process is gone, a zombie or reused.",
    engine=AUDIT,
    explanation=_doc(
        """\
        The task was claimed on this host (the claim lock is exactly
        `"<this host's name>:<pid>"`) and its recorded `worker_pid` names no
        process, a zombie, or a process that started at another time than the
        worker (a reused PID, where the board records the worker's start
        time). No PID is not a dead PID: a claim without one (a lane that
        claims with a one-shot process never records one) is left alone until
        it expires (KD003).

        ### Why it matters

        Nobody is working on the task, and it will stay `running` until its
        claim lapses, if it has one. A PID is evidence only on the host that
        wrote it, so tasks claimed elsewhere are never judged here (KD006).
        """,
        _AUDIT_FIX,
    ),
    bad=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 300);
        INSERT INTO tasks (id, title, status, created_at, started_at, claim_lock,
                           claim_expires, worker_pid, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 900, :now - 300,
                    :host || ':4242', :now + 600, :dead_pid, 7);
        """
    ),
    good=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 300);
        INSERT INTO tasks (id, title, status, created_at, started_at, claim_lock,
                           claim_expires, worker_pid, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 900, :now - 300,
                    :host || ':4242', :now + 600, :worker_pid, 7);
        """
    ),
)

_KD005 = Code(
    code="KD005",
    name="dangling-run",
    message="open run whose task is not running or does not point to it",
    summary="An open run whose task is not running, or whose task's current run is another.",
    engine=AUDIT,
    explanation=_doc(
        """\
        A run is open (`ended_at` is empty) but its task is not in the guarded
        state, or the task points to another run.

        ### Why it matters

        Run history says the task is being worked on while the task says
        otherwise: the task was moved (completed, blocked, demoted) without
        closing its run. Reports and the dispatcher's accounting are wrong,
        and a later claim leaves the task with two open runs. Repair closes
        the run as `reclaimed`.
        """,
        _AUDIT_FIX,
    ),
    bad=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 600);
        INSERT INTO tasks (id, title, status, created_at, completed_at)
            VALUES ('t1', 'write the report', 'done', :now - 900, :now - 60);
        """
    ),
    good=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at, ended_at, outcome)
            VALUES (7, 't1', 'completed', :now - 600, :now - 60, 'completed');
        INSERT INTO tasks (id, title, status, created_at, completed_at)
            VALUES ('t1', 'write the report', 'done', :now - 900, :now - 60);
        """
    ),
)

_KD006 = Code(
    code="KD006",
    name="claimed-on-another-host",
    message="running task claimed on another host: liveness cannot be checked here",
    summary="A suspect running task claimed on another host; its worker cannot be checked here.",
    engine=AUDIT,
    explanation=_doc(
        """\
        The task looks orphaned (another code applies) but its claim lock is
        not exactly `"<this host's name>:<pid>"`: it names another host, or
        is in another form (`vm`, `:4242`, `:`), or the worker PID has no
        claim lock at all to say where it was written. A PID means something
        only on the host that wrote it, so the worker's liveness cannot be
        judged here.

        ### Why it matters

        Demoting a task whose worker is alive on another machine loses that
        worker's work and lets a second worker claim it. Repair never touches
        it without `--force`.

        ### How to fix

        Run `kanban-audit audit` on the host named in the claim lock, where
        the worker's PID can be checked, and `repair` there. Use `--force`
        only when you know that host's worker is gone.
        """
    ),
    bad=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 7200);
        INSERT INTO tasks (id, title, status, created_at, started_at, claim_lock,
                           claim_expires, worker_pid, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 9000, :now - 7200,
                    'worker-2.example:4242', :now - 3600, 4243, 7);
        """
    ),
    good=_doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 300);
        INSERT INTO tasks (id, title, status, created_at, started_at, claim_lock,
                           claim_expires, worker_pid, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 900, :now - 300,
                    'worker-2.example:4242', :now + 600, 4243, 7);
        """
    ),
)

_KD007_WORKER = (
    "-- A process on this host runs with HERMES_KANBAN_DB=<this board>,\n"
    "-- HERMES_KANBAN_TASK=t1 and HERMES_KANBAN_RUN_ID=7 in its environment.\n"
)

_KD007 = Code(
    code="KD007",
    name="stray-worker",
    message="stray worker: a live process works for this board on a run that is over",
    summary="A live worker process on this host whose run ended, or whose task moved on.",
    engine=AUDIT,
    explanation=_doc(
        """\
        A process on this host carries this board in its environment (the
        rule pack's `[workers]` names: the board file, the task, the run) and
        its run has ended, its task is not running, or its task's current run
        is another one. "This board" is the same file (device and inode), not
        the same path text. Only this host's processes are seen: run the audit
        on every host that runs workers.

        ### Why it matters

        The board no longer records the worker (its run is closed and the
        task's `worker_pid` cleared), yet it keeps calling the model and
        running tools against a task that was blocked, archived or given to
        a new worker: the work is done twice, or pushed where nobody wanted
        it. Hermes up to 0.19 leaves its workers running after a block or an
        archive, and an unblock spawns a second worker beside the first.

        ### How to fix

        `kanban-audit repair` (a dry run) lists the workers it would end;
        `kanban-audit repair --apply` sends each SIGTERM, waits the pack's
        grace period, then SIGKILL, to the worker and to its descendants,
        re-reading each process's identity (PID, start time, environment)
        before every signal and leaving alone any that is not provably the
        same. The task's row is not changed; a `reconciled` event records
        the PIDs, the run and the signals.
        """
    ),
    bad=_KD007_WORKER
    + _doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at, ended_at, outcome)
            VALUES (7, 't1', 'blocked', :now - 900, :now - 600, 'blocked');
        INSERT INTO tasks (id, title, status, created_at, started_at)
            VALUES ('t1', 'write the report', 'blocked', :now - 1200, :now - 900);
        """
    ),
    good=_KD007_WORKER
    + _doc(
        """\
        INSERT INTO task_runs (id, task_id, status, started_at)
            VALUES (7, 't1', 'running', :now - 300);
        INSERT INTO tasks (id, title, status, created_at, started_at, claim_lock,
                           claim_expires, worker_pid, current_run_id)
            VALUES ('t1', 'write the report', 'running', :now - 900, :now - 300,
                    :host || ':4242', :now + 600, :worker_pid, 7);
        """
    ),
)

CODES: dict[str, Code] = {
    entry.code: entry
    for entry in (_KA001, _KA002, _KA100, _KD001, _KD002, _KD003, _KD004, _KD005, _KD006, _KD007)
}
LINT_CODES: dict[str, Code] = {k: v for k, v in CODES.items() if v.engine == LINT}


def codes_table(width: int | None = None) -> str:
    """One aligned row per code: what `kanban-audit rules` prints.

    With a `width` (a terminal's), long summaries wrap under their column.
    """
    code_width = max(len(entry.code) for entry in CODES.values())
    name_width = max(len(entry.name) for entry in CODES.values())
    indent = " " * (code_width + name_width + 4)
    rows = []
    for entry in CODES.values():
        row = f"{entry.code:<{code_width}}  {entry.name:<{name_width}}  {entry.summary}"
        if width is not None and len(row) > width:
            room = max(width - len(indent), 20)
            row = row[: len(indent)] + f"\n{indent}".join(textwrap.wrap(entry.summary, room))
        rows.append(row)
    return "\n".join(rows)


def get_code(code: str) -> Code:
    """Look a code up by code or by the name `rules` prints, case-insensitively."""
    key = code.strip().upper()
    by_name = {entry.name.upper(): entry for entry in CODES.values()}
    found = CODES.get(key) or by_name.get(key)
    if found is None:
        raise UsageError(f"unknown code: {code}{_suggestion(key, {**CODES, **by_name})}")
    return found


def explain(code: str) -> str:
    """The full documentation of one code: what `kanban-audit explain CODE` prints."""
    entry = get_code(code)
    title = f"{entry.code} ({entry.name})"
    examples = (
        [
            "Bad:\n\n" + textwrap.indent(entry.bad, "    "),
            "Good:\n\n" + textwrap.indent(entry.good, "    "),
        ]
        if entry.engine == LINT
        else [
            "Bad (board rows):\n\n" + textwrap.indent(entry.bad, "    "),
            "Good (board rows):\n\n" + textwrap.indent(entry.good, "    "),
            AUDIT_EXAMPLE_PARAMS,
        ]
    )
    return "\n\n".join(
        [f"{title}\n{'=' * len(title)}", entry.summary, entry.explanation, *examples]
    )


def check_selectors(values: Iterable[str], where: str, known: dict[str, Code] = LINT_CODES) -> None:
    """Each select/ignore entry must be ALL, a known code or a prefix of one.

    A typo that matches nothing would silently switch the gate off, so it is
    a configuration error, with the closest known code as a hint.
    """
    for value in values:
        key = value.strip().upper()
        if key == "ALL" or any(code.startswith(key) for code in known) and key:
            continue
        raise UsageError(f"{where}: unknown code {value!r}{_suggestion(key, known)}")


def _suggestion(key: str, known: dict[str, Code]) -> str:
    if not known:
        return ""
    best = max(known, key=lambda code: difflib.SequenceMatcher(None, key, code).ratio())
    return f" (did you mean {known[best].code}?)"
