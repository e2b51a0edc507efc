"""Apply an audit's plan: backup first, then one guarded transaction per task.

Each task is repaired in its own `BEGIN IMMEDIATE` transaction that re-reads
the row and writes with a compare-and-swap on every value the audit saw, so
a claim, completion or heartbeat that lands in between makes the repair skip
that task instead of overwriting it, and a kill at any moment leaves every
task either fully repaired or untouched.

A failure after the first repair (most often the write lock held past the
busy timeout) stops the run with what was done: the remaining tasks are
skipped with the reason, never reported as "nothing written". Only a run that
wrote nothing fails as a whole, and then it also removes its own backup. An
interrupt reports what the board shows and keeps the backup.

Each write is checked before it commits: the rows as written are read back
and the count of changed rows compared with what the repair wrote, so a board
whose triggers undo the repair or change other rows has it rolled back and
reported, never counted as done.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kanban_audit import __version__, jsontext
from kanban_audit.auditor import fields, terminate, workers
from kanban_audit.auditor.board import (
    BoardError,
    Schema,
    begin_immediate,
    connect,
    describe,
    ident,
    read_schema,
    real_path,
    sqlite_errors,
)
from kanban_audit.auditor.checks import Finding, Report, run_claim_cols, worker_rows
from kanban_audit.auditor.guard import others
from kanban_audit.auditor.history import who
from kanban_audit.rulepack import RulePack

WAL_CHECKPOINT_PAGES = 10_000
# Names tried for one backup before giving up (`<board>.<stamp>.bak`, `-2`, ...).
BACKUP_NAMES = 1000
REPAIRED = "repaired"
SKIPPED = "skipped"
# Interrupted while writing, and the board could not be read back to tell.
UNKNOWN = "unknown"
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Outcome:
    """What happened to one planned repair."""

    task_id: str
    result: str
    detail: str


class StrayInterrupted(KeyboardInterrupt):
    """Ctrl-C while stray workers were being ended: what was sent, recorded and reported."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


@dataclass(frozen=True)
class Applied:
    """A written repair: the backup made (if any), each task's outcome, why it stopped early."""

    backup: Path | None = None
    outcomes: tuple[Outcome, ...] = ()
    stopped: str | None = None
    interrupted: bool = False


def _create_backup_file(folder: Path, name: str, stamp: str, mode: int) -> tuple[Path, int]:
    """Create a new, empty, uniquely named backup file, open for writing; never reuse
    or overwrite one.

    `O_EXCL` makes the name ours atomically: two repairs started in the same
    second (or a file, a directory or a dangling link already there) make this
    one move on to the next serial instead of sharing or following it.
    """
    for serial in range(1, BACKUP_NAMES + 1):
        dest = folder / (f"{name}.{stamp}.bak" if serial == 1 else f"{name}.{stamp}-{serial}.bak")
        try:
            fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        except FileExistsError:
            continue
        except OSError as exc:
            raise BoardError(f"cannot create backup {dest}: {exc.strerror}") from None
        return dest, fd
    raise BoardError(f"cannot create backup in {folder}: {BACKUP_NAMES} names taken for {stamp}")


def backup(conn: sqlite3.Connection, path: Path, backup_dir: Path | None, now: float) -> Path:
    """Copy the live board with the SQLite online backup API; return the copy's path.

    The copy is a consistent snapshot even while the dispatcher writes, and it
    is switched to a rollback journal so it is one self-contained file. It is
    named after the repair's clock (the time its events record) and is exactly
    as readable as the board (same permission bits, under the umask).

    The source is the repair's own connection: opening the board file again
    in this process (a second connection's file check) and closing it would
    drop the POSIX locks this process holds on it, and another process could
    then take itself for the last connection and delete the WAL underneath.
    """
    path = real_path(path)  # beside the file itself, named after it, never after a link
    folder = backup_dir if backup_dir is not None else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BoardError(f"cannot create backup directory {folder}: {exc.strerror}") from None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    dest, fd = _create_backup_file(folder, path.name, stamp, stat.S_IMODE(path.stat().st_mode))
    try:
        try:
            _write_all(fd, _snapshot(conn))
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as exc:  # an unfinished copy is never left behind as a backup
        dest.unlink(missing_ok=True)
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise BoardError(f"backup to {dest} failed: {exc}") from None
        raise
    return dest


def _snapshot(conn: sqlite3.Connection) -> list[memoryview]:
    """The board's bytes as one self-contained rollback-journal database file.

    The copy is made in memory and written through the descriptor that created
    the backup's name: opening the name again (as SQLite would) could follow a
    link someone put there meanwhile, in a folder another user may write.
    Header bytes 18-19 are the file format versions: 2 (WAL) becomes 1, the
    rollback journal, which is what `PRAGMA journal_mode = DELETE` writes.
    """
    memory = sqlite3.connect(":memory:")
    try:
        conn.backup(memory)
        data = memoryview(memory.serialize())
    finally:
        memory.close()
    if len(data) < 20:  # no page written: nothing to mark
        return [data]
    return [data[:18], memoryview(b"\x01\x01"), data[20:]]


def _write_all(fd: int, parts: list[memoryview]) -> None:
    for part in parts:
        while part:
            part = part[os.write(fd, part) :]


def take_write_lock(conn: sqlite3.Connection, on_wait: Callable[[], None] | None) -> None:
    """Prove the write lock can be had within the busy timeout before anything is written."""
    begin_immediate(conn, on_wait)
    conn.execute("ROLLBACK")


class Writer:
    """The repair's SQL, built once per board from the pack and the schema.

    Each `repair` is one task in one `BEGIN IMMEDIATE` transaction: re-read the
    row, compare-and-swap on every value the audit saw, close the open runs
    (clearing their claim as the board's own closers do, compared against the
    values seen), record a `reconciled` event; any difference rolls it all back.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        pack: RulePack,
        schema: Schema,
        on_wait: Callable[[], None] | None = None,
        board: Path | None = None,
    ) -> None:
        self.conn, self.pack, self.schema, self.on_wait = conn, pack, schema, on_wait
        self.triggers = others(conn, (pack.tasks.table, pack.runs.table, pack.events.table))
        self.board = board
        t, r, e = pack.tasks, pack.runs, pack.events
        self._by_cols: dict[tuple[str, ...], tuple[str, str]] = {}
        cleared = [c for c in (t.claim_lock, t.claim_expires, t.worker_pid, t.current_run) if c]
        self._demote_set = ", ".join(
            [f"{ident(t.status)} = ?"]
            + [f"{ident(c)} = NULL" for c in cleared if c in schema.tasks]
        )
        run_sets = [(r.status, r.closed_as), (r.outcome, r.closed_as)]
        self._run_values = [v for c, v in run_sets if c and c in (schema.runs or ())]
        sets = [f"{ident(r.ended_at)} = ?"] + [
            f"{ident(c)} = ?" for c, _ in run_sets if c and c in (schema.runs or ())
        ]
        self._has_run_error = bool(r.error and r.error in (schema.runs or ()))
        sets += [f"{ident(r.error)} = ?"] if self._has_run_error else []
        self._run_claim = run_claim_cols(pack, schema)
        sets += [f"{ident(c)} = NULL" for c in self._run_claim]
        self._close_sql = (
            f"UPDATE {ident(r.table)} SET {', '.join(sets)}"
            f" WHERE {ident(r.id)} = ? AND {ident(r.ended_at)} IS NULL"
            + "".join(f" AND {ident(c)} IS ?" for c in self._run_claim)
        )
        wanted = (e.task, e.run, e.kind, e.payload, e.created_at)
        self._event_cols = [c for c in wanted if c and c in (schema.events or ())]
        self._event_sql = (
            f"INSERT INTO {ident(e.table)} ({', '.join(ident(c) for c in self._event_cols)})"
            f" VALUES ({', '.join('?' * len(self._event_cols))})"
        )
        self._cleared = [c for c in cleared if c in schema.tasks]
        self._task_read = (
            f"SELECT {', '.join(ident(c) for c in (t.status, *self._cleared))}"
            f" FROM {ident(t.table)} WHERE {ident(t.id)} = ?"
        )
        run_checked = [c for c, _ in run_sets if c and c in (schema.runs or ())]
        self._run_read = (
            f"SELECT {', '.join(ident(c) for c in (r.ended_at, *run_checked, *self._run_claim))}"
            f" FROM {ident(r.table)} WHERE {ident(r.id)} = ?"
        )
        when = f" AND {ident(e.created_at)} = ?" if e.created_at in self._event_cols else ""
        self._event_read = (
            f"SELECT count(*) FROM {ident(e.table)}"
            f" WHERE {ident(e.task)} = ? AND {ident(e.kind)} = ?{when}"
        )

    def _task_sql(self, cols: tuple[str, ...]) -> tuple[str, str]:
        """SELECT and compare-and-swap UPDATE over the columns the audit saw."""
        if cols not in self._by_cols:
            t = self.pack.tasks
            table, key = ident(t.table), ident(t.id)
            where = "".join(f" AND {ident(c)} IS ?" for c in cols)
            self._by_cols[cols] = (
                f"SELECT {', '.join(ident(c) for c in cols or (t.id,))} FROM {table}"
                f" WHERE {key} = ?",
                f"UPDATE {table} SET {self._demote_set} WHERE {key} = ?{where}",
            )
        return self._by_cols[cols]

    def _changed(self, finding: Finding, select: str) -> str | None:
        """Why the task no longer looks as the audit saw it, or None if it is unchanged."""
        seen = finding.seen
        row = self.conn.execute(select, (finding.task_id,)).fetchone()
        if not seen:
            return "the task appeared meanwhile" if row is not None else None
        if row is None:
            return "the task was deleted meanwhile"
        for col, value in zip(seen, row, strict=True):
            if value != seen[col]:
                return f"{col} changed from {seen[col]!r} to {value!r}"
        return None

    def _rows_written(self, finding: Finding) -> int:
        """How many rows the repair itself changes: the task, each run, the event."""
        events = 1 if self.schema.events is not None else 0
        return int(finding.demote) + len(finding.runs) + events

    def on_board(self, finding: Finding, now: int) -> str | None:
        """How the board differs from what the repair writes, or None if it shows the repair.

        Read inside the repair's transaction (what the board made of the
        writes, triggers included) and after an interrupt (what was committed).
        """
        conn = self.conn
        if finding.demote:
            row = conn.execute(self._task_read, (finding.task_id,)).fetchone()
            if row is None:
                return "the task is gone"
            status, *cleared = row
            if status != self.pack.tasks.repair_to:
                return f"the task's {self.pack.tasks.status} is {fields.quoted(status)}"
            for col, value in zip(self._cleared, cleared, strict=True):
                if value is not None:
                    return f"the task's {col} is {fields.quoted(value)}"
        for run_id in finding.runs:
            row = conn.execute(self._run_read, (run_id,)).fetchone()
            want = (now, *self._run_values, *[None] * len(self._run_claim))
            if row is None:
                return f"run #{run_id} is gone"
            if tuple(row) != want:
                return f"run #{run_id} is not closed as the repair closes it"
        if self.schema.events is not None:
            e = self.pack.events
            when = [now] if e.created_at in self._event_cols else []
            params = [finding.task_id, e.repair_kind, *when]
            if not conn.execute(self._event_read, params).fetchone()[0]:
                return f"no {e.repair_kind!r} event for the task"
        return None

    def _verify(self, finding: Finding, now: int, changes_before: int) -> str | None:
        """Why the board did not keep the repair as written (its triggers), or None."""
        written = self._rows_written(finding)
        changed = self.conn.total_changes - changes_before
        differs = self.on_board(finding, now)
        if differs is None and changed == written:
            return None
        facts = [differs] if differs else []
        if changed != written:
            facts.append(f"{changed} rows changed where the repair wrote {written}")
        if self.triggers:
            facts.append(f"triggers: {', '.join(repr(t.name) for t in self.triggers)}")
        return f"rolled back: the board changed the repair ({'; '.join(facts)})"

    def _write(self, finding: Finding, update: str, now: int) -> str | None:
        conn = self.conn
        if finding.demote:
            params = [self.pack.tasks.repair_to, finding.task_id, *finding.seen.values()]
            if conn.execute(update, params).rowcount != 1:
                return "the task changed during the repair"
        error = [f"kanban-audit repair: {', '.join(finding.codes)}"] if self._has_run_error else []
        for run_id in finding.runs:
            seen = finding.runs_seen.get(run_id, {})
            was = [seen.get(c) for c in self._run_claim]
            params = [now, *self._run_values, *error, run_id, *was]
            if conn.execute(self._close_sql, params).rowcount != 1:
                return f"run #{run_id} was closed or reclaimed meanwhile"
        if self.schema.events is not None:
            conn.execute(self._event_sql, self._event_row(finding, now))
        return None

    def _event_row(self, finding: Finding, now: int) -> list[Any]:
        payload = {
            "tool": "kanban-audit",
            "version": __version__,
            "codes": list(finding.codes),
            "action": finding.action,
            "cause": finding.cause,
            "by": who(),
            "evidence": finding.evidence,
            "prior": {
                "task": finding.seen,
                "open_runs": list(finding.runs),
                "runs": {str(run_id): seen for run_id, seen in finding.runs_seen.items()},
            },
        }
        return self._event_values(
            finding.task_id, finding.runs[0] if finding.runs else None, payload, now
        )

    def _event_values(
        self, task_id: Any, run_id: Any, payload: dict[str, Any], now: int
    ) -> list[Any]:
        e = self.pack.events
        values = {
            e.task: task_id,
            e.run: run_id,
            e.kind: e.repair_kind,
            e.payload: jsontext.dumps(payload),
            e.created_at: now,
        }
        return [values[c] for c in self._event_cols]

    def read_back(self, finding: Finding, now: int) -> Outcome:
        """The outcome of a repair the board is asked about: interrupted, maybe committed."""
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            differs = self.on_board(finding, now)
        except sqlite3.Error as exc:
            detail = f"{INTERRUPTED} while writing; the board could not be read back ({exc})"
            return Outcome(finding.task_id, UNKNOWN, detail)
        if differs is None:
            return Outcome(finding.task_id, REPAIRED, f"{finding.action} ({INTERRUPTED} after it)")
        return Outcome(finding.task_id, SKIPPED, f"{INTERRUPTED}: not written")

    def repair(self, finding: Finding, now: int) -> Outcome:
        """The task's rows (if the plan changes them), then its stray workers (if any)."""
        outcome = self._repair_rows(finding, now) if finding.demote or finding.runs else None
        if finding.strays:
            return self._end_strays(finding, now, outcome)
        assert outcome is not None
        return outcome

    def _end_strays(self, finding: Finding, now: int, rows: Outcome | None) -> Outcome:
        """Stop each stray still judged one on the board as it is now; record what was sent.

        The task's row is not changed: a `reconciled` event on it records each
        worker's PID, run and the signals it and its descendants got.
        """
        tasks, runs = worker_rows(
            self.conn, self.pack, self.schema, (s.worker for s in finding.strays)
        )
        still = {
            s.worker.pid
            for s in workers.judge(
                self.pack,
                workers.board_key(self.board),
                [s.worker for s in finding.strays],
                tasks,
                runs,
                now,
            )
        }
        stopped = [
            terminate.end(stray, self.pack.workers, self.board)
            if stray.worker.pid in still
            else terminate.Ended(
                None, False, f"worker {stray.worker.pid}: its run is current again"
            )
            for stray in finding.strays
        ]
        record = [s.record for s in stopped if s.record is not None]
        unrecorded = None
        if record and self.schema.events is not None:
            payload = {
                "tool": "kanban-audit",
                "version": __version__,
                "codes": ["KD007"],
                "action": finding.action,
                "workers": record,
            }
            unrecorded = self._record(finding, payload, now)
        parts = ([rows.detail] if rows else []) + [s.detail for s in stopped]
        parts += [unrecorded] if unrecorded else []
        failed = not all(s.ended for s in stopped) or (rows is not None and rows.result == SKIPPED)
        failed = failed or unrecorded is not None
        outcome = Outcome(finding.task_id, SKIPPED if failed else REPAIRED, "; ".join(parts))
        if any(s.interrupted for s in stopped):
            raise StrayInterrupted(outcome)
        return outcome

    def _record(self, finding: Finding, payload: dict[str, Any], now: int) -> str | None:
        """Write the `reconciled` event of signals already sent; why it could not be, or None.

        The signals are facts by now: a board that refuses or locks out the
        event makes the task skipped with the reason, never "nothing written".
        """
        try:
            begin_immediate(self.conn, self.on_wait)
            try:
                self.conn.execute(
                    self._event_sql,
                    self._event_values(finding.task_id, finding.strays[0].worker.run, payload, now),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            return f"the signals sent are not recorded on the board: {exc}"
        return None

    def _repair_rows(self, finding: Finding, now: int) -> Outcome:
        """One task, one transaction; skipped (and rolled back) if anything moved, or if
        the board refuses the write (a constraint, or a trigger that raises)."""
        select, update = self._task_sql(tuple(finding.seen))
        begin_immediate(self.conn, self.on_wait)
        try:
            before = self.conn.total_changes
            reason = (
                self._changed(finding, select)
                or self._write(finding, update, now)
                or self._verify(finding, now, before)
            )
            self.conn.execute("ROLLBACK" if reason else "COMMIT")
        except sqlite3.IntegrityError as exc:  # a trigger's RAISE, a CHECK or NOT NULL
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            reason = f"the board refused the repair: {exc}"
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        if reason:
            return Outcome(finding.task_id, SKIPPED, reason)
        return Outcome(finding.task_id, REPAIRED, finding.action)


def apply_plan(
    writer: Writer, report: Report, now: float, path: Path, busy_timeout_ms: int
) -> Applied:
    """Repair every planned finding, each in its own transaction, in task order.

    A SQLite error once something is written stops the run: the task that met
    it was rolled back, and it and the rest are reported as skipped with the
    reason. Before the first write it propagates: nothing was written.

    An interrupt (Ctrl-C) stops the run wherever it lands. It can land after
    a COMMIT went through and before the code learns of it, so the task in
    hand is read back from the board and reported as the board shows it; the
    tasks after it were never started.
    """
    planned = report.planned
    outcomes: list[Outcome] = []
    for index, finding in enumerate(planned):
        try:
            outcomes.append(writer.repair(finding, int(now)))
        except KeyboardInterrupt as exc:
            if isinstance(exc, StrayInterrupted):
                outcomes.append(exc.outcome)
            else:
                outcomes.append(writer.read_back(finding, int(now)))
            rest = f"not started: {INTERRUPTED}"
            outcomes += [Outcome(f.task_id, SKIPPED, rest) for f in planned[index + 1 :]]
            return Applied(outcomes=tuple(outcomes), stopped=INTERRUPTED, interrupted=True)
        except sqlite3.Error as exc:
            if not any(o.result == REPAIRED for o in outcomes):
                raise
            reason = describe(exc, path, busy_timeout_ms)
            outcomes += [Outcome(f.task_id, SKIPPED, reason) for f in planned[index:]]
            return Applied(outcomes=tuple(outcomes), stopped=reason)
    return Applied(outcomes=tuple(outcomes))


def clock_floor(report: Report) -> tuple[float, str, str] | None:
    """The newest time the planned repairs write after, as (time, what, task), or None.

    A repair clock older than this would close runs before they started and
    date its events before the history they follow.
    """
    times = [(*f.not_before, str(f.task_id)) for f in report.planned if f.not_before]
    return max(times, default=None)


def execute(
    path: Path,
    pack: RulePack,
    report: Report,
    *,
    busy_timeout_ms: int,
    now: float,
    backup_dir: Path | None,
    make_backup: bool = True,
    on_lock_wait: Callable[[], None] | None = None,
) -> Applied:
    """Write a planned repair: lock probe, backup, then the per-task transactions.

    Nothing is created or written unless the write lock can be had within the
    busy timeout; the backup is taken only when there is something to repair,
    and removed again if the run fails before its first write. Once the
    repairs have started, an interrupt keeps it: a write may have gone
    through. `on_lock_wait` is called when a wait for the write lock passes a
    second.
    """
    if not report.planned:
        return Applied()
    with sqlite_errors(path, busy_timeout_ms):
        conn = connect(path, busy_timeout_ms, write=True)
        saved = None
        writing = False
        try:
            schema = read_schema(conn, pack, path)
            # WAL + NORMAL, as the board's own writers run: each repair stays atomic
            # and crash-safe; only the fsync per commit is skipped (a power cut may
            # undo the last repairs, which the next run redoes).
            conn.execute("PRAGMA synchronous = NORMAL")
            # Checkpoint (and fsync) every ~40 MB of WAL rather than every 4 MB.
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            take_write_lock(conn, on_lock_wait)
            saved = backup(conn, path, backup_dir, now) if make_backup else None
            writer = Writer(conn, pack, schema, on_lock_wait, path)
            writing = True
            applied = apply_plan(writer, report, now, path, busy_timeout_ms)
        except (sqlite3.Error, BoardError, KeyboardInterrupt) as exc:
            # A SQLite error comes only before the first write, an interrupt past
            # apply_plan's own handling only while it reads the board back.
            if saved is not None and not (writing and isinstance(exc, KeyboardInterrupt)):
                saved.unlink(missing_ok=True)
            raise
        finally:
            conn.close()
    return Applied(saved, applied.outcomes, applied.stopped, applied.interrupted)
