"""KD007 on hand-built boards: which processes are this board's, and the identity checks
repair makes before every signal (real processes throughout)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from support import boards
from support.cli import KANBAN_AUDIT, run_cli, run_json

from kanban_audit.auditor import terminate, workers
from kanban_audit.rulepack import WorkersSection, load_pack

SPEC = load_pack().workers
IGNORES_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started by a test, killed after it."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def _start(
    started: list[subprocess.Popen[bytes]],
    env: dict[str, str],
    argv: tuple[str, ...] = ("sleep", "300"),
    cwd: Path | None = None,
) -> psutil.Process:
    proc = subprocess.Popen(argv, env={**os.environ, **env}, cwd=cwd)
    started.append(proc)
    return psutil.Process(proc.pid)


def _worker_env(db: str, task: str = "t1", run: int = 1) -> dict[str, str]:
    return {"HERMES_KANBAN_DB": db, "HERMES_KANBAN_TASK": task, "HERMES_KANBAN_RUN_ID": str(run)}


def _ended_run(path: Path, status: str, ago: int, now: int) -> Path:
    """A board whose task t1 is `status`, its run #1 ended that way `ago` seconds before `now`."""
    conn = boards.create(path)
    boards.add_task(conn, "t1", status, now)
    boards.add_run(conn, "t1", now - 900, ended_at=now - ago, outcome=status, status=status)
    conn.close()
    return path


@pytest.fixture
def board(tmp_path: Path) -> Path:
    """Task t1 blocked, its run #1 ended as blocked ten minutes ago."""
    return _ended_run(tmp_path / "kanban.db", "blocked", 600, int(time.time()))


def _stray(proc: psutil.Process, board: Path, started_at: float | None = None) -> workers.Stray:
    worker = workers.Worker(
        pid=proc.pid,
        ppid=proc.ppid(),
        started_at=proc.create_time() if started_at is None else started_at,
        cmdline=tuple(proc.cmdline()),
        task="t1",
        run=1,
        claim_lock=None,
    )
    return workers.Stray(worker, "why", "short", "blocked", 0, "blocked", ())


def test_this_board_is_the_same_file_not_the_same_path(
    tmp_path: Path, board: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    link = tmp_path / "link.db"
    link.symlink_to(board)
    copy = tmp_path / "copy.db"
    shutil.copy(board, copy)
    through_link = _start(spawn, _worker_env(str(link)))
    relative = _start(spawn, _worker_env("kanban.db"), cwd=tmp_path)
    other_file = _start(spawn, _worker_env(str(copy)))
    code, doc = run_json("audit", board)
    assert code == 1
    [finding] = doc["findings"]
    assert finding["codes"] == ["KD007"]
    pids = {w["pid"] for w in finding["evidence"]["workers"]}
    assert pids == {through_link.pid, relative.pid}
    [worker] = [w for w in finding["evidence"]["workers"] if w["pid"] == through_link.pid]
    assert worker["run_outcome"] == "blocked" and worker["task_status"] == "blocked"
    assert worker["started_at"] == through_link.create_time()
    assert finding["action"].startswith(
        f"terminate worker {through_link.pid} (run #1 ended as blocked, 10 min ago)"
    )
    assert doc["summary"]["processes"]["host"] == boards.HOST
    assert other_file.is_running()


def test_a_worker_whose_run_ended_within_the_grace_period_is_left_to_exit(
    tmp_path: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    """A worker that completes or blocks its own task ends its run, then exits."""
    now = int(time.time())
    path = _ended_run(tmp_path / "kanban.db", "done", 5, now)
    proc = _start(spawn, _worker_env(str(path)))
    assert run_json("audit", path, "--now", now)[0] == 0
    code, doc = run_json("audit", path, "--now", now, "--grace", "4")
    assert code == 1
    assert [w["pid"] for w in doc["findings"][0]["evidence"]["workers"]] == [proc.pid]


def test_the_summary_says_whose_processes_were_scanned(board: Path) -> None:
    proc = run_cli("audit", board)
    assert proc.returncode == 0, proc.stdout
    line = proc.stdout.splitlines()[-2]
    assert line.startswith(f"processes scanned on {boards.HOST}: ")
    assert "0 workers of this board" in line


def test_a_pid_whose_start_time_differs_is_never_signalled(
    board: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    """The PID a stray had, now naming another process (its start time differs)."""
    proc = _start(spawn, _worker_env(str(board)))
    [worker] = terminate.stop(_stray(proc, board, proc.create_time() - 5), SPEC, board)
    assert worker.signals == [] and "names another process" in worker.result
    assert proc.status() != psutil.STATUS_ZOMBIE


def test_a_process_working_on_another_run_is_never_signalled(
    board: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    proc = _start(spawn, _worker_env(str(board), run=2))
    [worker] = terminate.stop(_stray(proc, board), SPEC, board)
    assert worker.signals == [] and "no longer works" in worker.result
    assert proc.is_running()


def test_descendants_are_ended_only_if_they_are_the_planned_ones(
    board: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    proc = _start(spawn, _worker_env(str(board)))
    child = _start(spawn, {})
    other = _start(spawn, {})
    planned = (
        workers.Identity(child.pid, child.create_time()),
        workers.Identity(other.pid, other.create_time() + 3),
    )
    stray = _stray(proc, board)
    stray = workers.Stray(stray.worker, "why", "short", "blocked", 0, "blocked", planned)
    targets = terminate.stop(stray, SPEC, board)
    assert [(t.role, t.signals, t.result) for t in targets[:2]] == [
        ("worker", ["SIGTERM"], terminate.ENDED),
        ("descendant", ["SIGTERM"], terminate.ENDED),
    ]
    assert targets[2].signals == [] and "names another process" in targets[2].result
    assert other.is_running()


def test_a_worker_that_ignores_sigterm_gets_sigkill_after_the_grace_period(
    board: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    proc = _start(spawn, _worker_env(str(board)), (sys.executable, "-c", IGNORES_TERM))
    time.sleep(0.5)  # the handler is installed
    spec = WorkersSection(**{**SPEC.__dict__, "stop_grace_seconds": 1})
    started = time.monotonic()
    [worker] = terminate.stop(_stray(proc, board), spec, board)
    assert worker.signals == ["SIGTERM", "SIGKILL"] and worker.result == terminate.ENDED
    assert time.monotonic() - started >= 1


def test_a_pack_without_workers_skips_kd007(tmp_path: Path, board: Path) -> None:
    text = load_pack().text
    pack = tmp_path / "pack.toml"
    pack.write_text(text[: text.index("[workers]")] + text[text.index("[lint]") :])
    proc = run_cli("audit", board, "--rules", pack)
    assert proc.returncode == 0, proc.stdout
    assert "skipped KD007: the rule pack names no worker environment ([workers])" in proc.stdout
    assert "processes scanned" not in proc.stdout


def test_a_pack_naming_a_board_without_a_task_is_refused(tmp_path: Path, board: Path) -> None:
    text = load_pack().text.replace('env_task = "HERMES_KANBAN_TASK"\n', "")
    pack = tmp_path / "pack.toml"
    pack.write_text(text)
    proc = run_cli("audit", board, "--rules", pack)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        f"kanban-audit: error: {pack}: [workers]: env_db and env_task name a worker's"
        " board and task together\n"
    )


def test_the_tools_of_a_worker_that_exited_are_still_ended(
    board: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    proc = _start(spawn, _worker_env(str(board)))
    tool = _start(spawn, {})
    stray = _stray(proc, board)
    stray = workers.Stray(
        stray.worker,
        "why",
        "short",
        "blocked",
        0,
        "blocked",
        (workers.Identity(tool.pid, tool.create_time()),),
    )
    spawn[0].kill()
    spawn[0].wait()
    ended = terminate.end(stray, SPEC, board)
    assert ended.ended and ended.detail == f"worker {proc.pid} had exited; terminated 1 descendant"
    assert ended.record is not None
    assert [p["signals"] for p in ended.record["processes"]] == [[], ["SIGTERM"]]
    assert spawn[1].wait(timeout=5) is not None


SPAWNS_WORKER = """
import os, subprocess, sys, time
env = dict(os.environ, HERMES_KANBAN_TASK="t2", HERMES_KANBAN_RUN_ID=sys.argv[1])
child = subprocess.Popen(["sleep", "300"], env=env)
print(child.pid, flush=True)
time.sleep(300)
"""


def test_a_live_worker_spawned_by_a_stray_is_never_ended_with_it(
    tmp_path: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    """A stray's tool ran a dispatcher: the worker it spawned (task t2, its run open, its
    PID on the board) is a descendant of the stray, and a healthy worker all the same."""
    now = int(time.time())
    path = _ended_run(tmp_path / "kanban.db", "blocked", 600, now)

    conn = sqlite3.connect(path, isolation_level=None)
    run = boards.claimed(conn, "t2", now)
    stray = subprocess.Popen(
        [sys.executable, "-c", SPAWNS_WORKER, str(run)],
        env={**os.environ, **_worker_env(str(path))},
        stdout=subprocess.PIPE,
    )
    spawn.append(stray)
    assert stray.stdout is not None
    healthy = psutil.Process(int(stray.stdout.readline()))
    conn.execute(
        "UPDATE tasks SET worker_pid = ?, worker_pid_started_at = ? WHERE id = 't2'",
        (healthy.pid, healthy.create_time()),
    )
    conn.execute("UPDATE task_runs SET worker_pid = ? WHERE id = ?", (healthy.pid, run))
    conn.close()
    code, doc = run_json("repair", path, "--apply", "--yes", "--no-backup")
    try:
        assert code == 0
        [finding] = doc["findings"]
        assert finding["task_id"] == "t1"
        [worker] = finding["evidence"]["workers"]
        assert worker["pid"] == stray.pid and worker["descendants"] == []
        assert stray.wait(timeout=10) is not None
        assert healthy.is_running() and healthy.status() != psutil.STATUS_ZOMBIE
    finally:
        healthy.kill()


TERM_NOTED = """
import pathlib, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: pathlib.Path(sys.argv[1]).write_text("term"))
time.sleep(300)
"""


def test_ctrl_c_in_the_grace_period_reports_and_records_the_signals_sent(
    tmp_path: Path, board: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    """Ctrl-C between SIGTERM and SIGKILL: the SIGTERM went out, so the report says so and
    the `reconciled` event records it; no SIGKILL follows; exit 130."""
    noted = tmp_path / "term"
    worker = _start(spawn, _worker_env(str(board)), (sys.executable, "-c", TERM_NOTED, str(noted)))
    time.sleep(0.5)  # the handler is installed
    repair = subprocess.Popen(
        [str(KANBAN_AUDIT), "repair", board, "--apply", "--yes", "--format", "json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not noted.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    repair.send_signal(signal.SIGINT)
    out, err = repair.communicate(timeout=60)
    assert repair.returncode == 130, err
    [result] = json.loads(out)["results"]
    assert result["detail"] == f"worker {worker.pid}: interrupted after SIGTERM to {worker.pid}"
    assert worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE
    [(payload,)] = boards.rows(board, "SELECT payload FROM task_events WHERE kind = 'reconciled'")
    [record] = json.loads(payload)["workers"]
    assert [(p["pid"], p["signals"]) for p in record["processes"]] == [(worker.pid, ["SIGTERM"])]


def _as_user(env: dict[str, str], uids: tuple[int, int, int]) -> int:
    """`sleep` with `env`, as (real, effective, saved) user `uids` and group nobody."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(*uids)
            os.execve("/bin/sleep", ["sleep", "300"], env)
        finally:
            os._exit(127)
    return pid


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as another user")
def test_a_process_of_a_user_who_may_not_write_the_board_is_never_its_worker(
    board: Path,
) -> None:
    """Any user can put the board's path in an environment: a process of a user who may
    not write the board (nobody; or nobody running a set-user-ID root program) was never
    spawned for it. It is counted, not judged, and repair leaves it alone."""
    board.chmod(0o600)
    env = _worker_env(str(board))
    forged = [_as_user(env, (65534, 65534, 65534)), _as_user(env, (65534, 0, 0))]
    try:
        time.sleep(0.5)
        code, doc = run_json("repair", board, "--apply", "--yes", "--no-backup")
        assert (code, doc["findings"]) == (0, [])
        assert doc["summary"]["processes"]["foreign"] == 2
        text = run_cli("audit", board).stdout
        assert "2 naming it whose user may not write it, not judged" in text
        for pid in forged:
            assert os.waitpid(pid, os.WNOHANG) == (0, 0)
        assert boards.rows(board, "SELECT count(*) FROM task_events") == [(0,)]
    finally:
        for pid in forged:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def test_signals_sent_are_reported_when_the_board_refuses_their_event(
    board: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    """The worker got its SIGTERM before the `reconciled` event is written: a board that
    refuses the event gets a skipped task that says so, never "nothing written"."""
    conn = sqlite3.connect(board, isolation_level=None)
    conn.execute(
        "CREATE TRIGGER frozen BEFORE INSERT ON task_events"
        " BEGIN SELECT RAISE(ABORT, 'events are frozen'); END"
    )
    conn.close()
    proc = _start(spawn, _worker_env(str(board)))
    code, doc = run_json("repair", board, "--apply", "--yes", "--no-backup")
    assert code == 1
    [result] = doc["results"]
    assert result["result"] == "skipped"
    assert result["detail"] == (
        f"terminated worker {proc.pid} (SIGTERM); the signals sent are not recorded on the"
        " board: events are frozen"
    )
    assert spawn[0].wait(timeout=10) is not None


def test_a_board_with_integer_task_ids_is_matched_as_the_board_compares(
    tmp_path: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    """An environment names task 5 as the text "5": the live worker of running task 5 is
    healthy, and the stray of task 6 is reported under the board's own id 6."""
    now = int(time.time())
    path = tmp_path / "kanban.db"
    schema = (
        boards.SCHEMA.read_text()
        .replace("id TEXT PRIMARY KEY", "id INTEGER PRIMARY KEY", 1)
        .replace("task_id TEXT NOT NULL", "task_id INTEGER NOT NULL")
    )
    conn = boards.create(path, schema=schema)
    healthy = _start(spawn, _worker_env(str(path), task="5", run=1))
    assert boards.claimed(conn, 5, now, pid=healthy.pid, fingerprint=healthy.create_time()) == 1
    boards.add_task(conn, 6, "blocked", now)
    run = boards.add_run(conn, 6, now - 900, ended_at=now - 600, outcome="blocked")
    stray = _start(spawn, _worker_env(str(path), task="6", run=run))
    conn.close()
    code, doc = run_json("audit", path)
    assert code == 1
    [finding] = doc["findings"]
    assert (finding["task_id"], finding["codes"]) == (6, ["KD007"])
    assert [w["pid"] for w in finding["evidence"]["workers"]] == [stray.pid]
    code, doc = run_json("repair", path, "--apply", "--yes", "--no-backup")
    assert code == 0
    assert healthy.is_running() and spawn[1].wait(timeout=10) is not None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a process as another user")
def test_a_descendant_this_user_may_not_signal_is_reported_not_a_crash(
    spawn: list[subprocess.Popen[bytes]],
) -> None:
    """Repair run by the board's owner (nobody): the stray's descendant became another
    user's (a set-user-ID program), so the signal is refused; the worker is still ended."""
    folder = Path(tempfile.mkdtemp())
    folder.chmod(0o755)
    try:
        board = _ended_run(folder / "kanban.db", "blocked", 600, int(time.time()))
        os.chown(board, 65534, 65534)
        pid = _as_user(_worker_env(str(board)), (65534, 65534, 65534))
        time.sleep(0.3)
        worker = psutil.Process(pid)
        root_owned = _start(spawn, {})
        stray = workers.Stray(
            _stray(worker, board).worker,
            "why",
            "short",
            "blocked",
            0,
            "blocked",
            (workers.Identity(root_owned.pid, root_owned.create_time()),),
        )
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - the child
            code = 1
            try:
                os.setgroups([])
                os.setresgid(65534, 65534, 65534)
                os.setresuid(65534, 65534, 65534)
                targets = terminate.stop(stray, SPEC, board)
                os.write(write, json.dumps([t.as_dict() for t in targets]).encode())
                code = 0
            except BaseException as exc:  # what the parent reports
                os.write(write, repr(exc).encode())
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read) as pipe:
            report = pipe.read()
        assert os.waitpid(child, 0)[1] == 0, report
        by_role = {t["role"]: t for t in json.loads(report)}
        assert by_role["worker"]["signals"] == ["SIGTERM"]
        assert by_role["worker"]["result"] == terminate.ENDED
        assert by_role["descendant"]["signals"] == []
        assert "not permitted" in by_role["descendant"]["result"]
        assert root_owned.is_running()
        os.waitpid(pid, 0)
    finally:
        shutil.rmtree(folder)
