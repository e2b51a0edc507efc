"""The lint rule catalogue: one documented entry per finding code.

`kanban-audit rules`, `kanban-audit explain CODE` and the SARIF rule
metadata all read from here, so a rule is described once.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from kanban_audit.errors import UsageError


@dataclass(frozen=True)
class Rule:
    """A finding code with the documentation a user needs to act on it."""

    code: str
    name: str
    summary: str
    explanation: str
    bad: str
    good: str


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

_KA001 = Rule(
    code="KA001",
    name="running-outside-claim",
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

_KA002 = Rule(
    code="KA002",
    name="unchecked-status-write",
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

_KA100 = Rule(
    code="KA100",
    name="unused-suppression",
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

RULES: dict[str, Rule] = {rule.code: rule for rule in (_KA001, _KA002, _KA100)}


def rules_table() -> str:
    """One aligned row per rule: what `kanban-audit rules` prints."""
    code_width = max(len(rule.code) for rule in RULES.values())
    name_width = max(len(rule.name) for rule in RULES.values())
    return "\n".join(
        f"{rule.code:<{code_width}}  {rule.name:<{name_width}}  {rule.summary}"
        for rule in RULES.values()
    )


def get_rule(code: str) -> Rule:
    """Look a rule up by code, case-insensitively, as a user would type it."""
    try:
        return RULES[code.strip().upper()]
    except KeyError:
        raise UsageError(f"unknown rule code: {code}") from None


def explain(code: str) -> str:
    """The full documentation of one rule: what `kanban-audit explain CODE` prints."""
    rule = get_rule(code)
    title = f"{rule.code} ({rule.name})"
    return "\n\n".join(
        [
            f"{title}\n{'=' * len(title)}",
            rule.summary,
            rule.explanation,
            "Bad:\n\n" + textwrap.indent(rule.bad, "    "),
            "Good:\n\n" + textwrap.indent(rule.good, "    "),
        ]
    )
