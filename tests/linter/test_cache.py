"""The summary cache is data: nothing in it runs, and a bad entry is only a miss."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import zlib
from pathlib import Path

import pytest
from support.cli import run_cli

from kanban_audit.linter import cache as cache_module
from kanban_audit.linter.cache import FILE, SCHEMA, SummaryCache, cache_key, signed
from kanban_audit.linter.codec import FormatError, decode, encode
from kanban_audit.linter.summarize import summarize
from kanban_audit.linter.values import Check, Holds
from kanban_audit.rulepack import load_pack

from .harness import service

METHODS = load_pack().lint.sql_methods  # part of every cache key


class _Payload:
    """Unpickling this runs a command that leaves a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - the pickle protocol
        return (os.system, (f"touch {self.marker}",))


def _lint(cwd: Path, *args: str) -> tuple[int, dict]:
    done = run_cli("lint", "--format", "json", *args, cwd=cwd)
    assert "Traceback" not in done.stderr
    return done.returncode, json.loads(done.stdout)


def _plant(folder: Path, marker: Path) -> None:
    """A hostile cache: pickles where old versions kept them, and rows whose data
    is a pickle, garbage, a truncated entry and a summary of another file."""
    folder.mkdir(parents=True, exist_ok=True)
    for key in ("00" * 32, "ff" * 32):
        (folder / key[:2]).mkdir(exist_ok=True)
        (folder / key[:2] / f"{key}.pickle").write_bytes(pickle.dumps(_Payload(marker)))
    conn = sqlite3.connect(folder / FILE)
    conn.execute(SCHEMA)
    conn.close()


def _poison_rows(folder: Path, root: Path, marker: Path) -> int:
    """Rows under the real keys of the project's files, every one hostile: board/db.py's
    is a well-formed summary of that very file with its writes left out, signed with
    another machine's key; the others are garbage. Returns how many."""
    conn = sqlite3.connect(folder / FILE)
    other = encode(summarize(b"X = 1\n", "other.py", "other", METHODS)[0])
    bad = [pickle.dumps(_Payload(marker)), b"\x00garbage", other[: len(other) // 2], other]
    files = sorted(root.rglob("*.py"))
    for n, path in enumerate(files):
        display = path.relative_to(root).as_posix()
        module = display.removesuffix("/__init__.py").removesuffix(".py").replace("/", ".")
        key = cache_key(path.read_bytes(), module, display, METHODS)
        if display == "board/db.py":
            harmless = b"def _set_status(conn, task_id, status):\n    pass\n"
            forged = summarize(harmless, display, module, METHODS)[0]
            blob = signed(os.urandom(32), key, zlib.compress(encode(forged)))
        else:
            data = bad[n % len(bad)]
            blob = zlib.compress(data) if n % 2 else data
        conn.execute("INSERT OR REPLACE INTO summaries VALUES (?, ?, ?)", (key, 2**40, blob))
    conn.commit()
    conn.close()
    return len(files)


def test_a_hostile_cache_committed_to_the_repository_runs_nothing(tmp_path: Path) -> None:
    origin = service(tmp_path / "origin")
    (origin / "pyproject.toml").write_text("[project]\nname = 'svc'\n")
    marker = tmp_path / "pwned"
    folder = origin / ".kanban-audit-cache"
    _plant(folder, marker)
    _poison_rows(folder, origin, marker)
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(origin)], check=True)
    subprocess.run([*git, "-C", str(origin), "add", "-f", "."], check=True)
    subprocess.run([*git, "-C", str(origin), "commit", "-qm", "pr"], check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    assert (clone / ".kanban-audit-cache" / FILE).is_file()
    code, hostile = _lint(clone)
    plain_code, plain = _lint(clone, "--no-cache")
    assert not marker.exists()
    assert (code, hostile["findings"]) == (plain_code, plain["findings"]) == (1, plain["findings"])
    assert len(plain["findings"]) == 2
    # Every row was a miss, the forged summary of board/db.py too.
    assert hostile["summary"]["files_cached"] == 0


def test_a_hostile_cache_dir_runs_nothing(tmp_path: Path) -> None:
    root = service(tmp_path / "svc")
    marker = tmp_path / "pwned"
    folder = tmp_path / "elsewhere"
    _plant(folder, marker)
    _poison_rows(folder, root, marker)
    code, hostile = _lint(root, "--cache-dir", str(folder))
    assert not marker.exists()
    assert code == 1 and len(hostile["findings"]) == 2
    code, warm = _lint(root, "--cache-dir", str(folder))  # the misses were replaced
    assert code == 1 and warm["findings"] == hostile["findings"]
    first = hostile["summary"]
    assert first["files_parsed"] > 0
    assert warm["summary"]["files_cached"] == first["files_cached"] + first["files_parsed"]


def test_a_file_that_is_not_our_cache_is_never_read_or_written(tmp_path: Path) -> None:
    root = service(tmp_path / "svc")
    folder = tmp_path / "cache"
    folder.mkdir()
    conn = sqlite3.connect(folder / FILE)
    conn.execute(SCHEMA)
    conn.execute("CREATE TABLE log (line TEXT)")
    conn.execute(
        "CREATE TRIGGER spy AFTER INSERT ON summaries BEGIN INSERT INTO log VALUES (NEW.key); END"
    )
    conn.commit()
    conn.close()
    before = (folder / FILE).read_bytes()
    done = run_cli("lint", "--cache-dir", folder, cwd=root)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        f"kanban-audit: warning: ignoring {folder / FILE}: not a kanban-audit cache" in done.stderr
    )
    assert (folder / FILE).read_bytes() == before


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"null",
        b"[]",
        b'{"format": 1}',
        b'{"format": 999, "nodes": []}',
        b'{"format":1,"module":"m","path":"m.py","imports":{},"globals":{"X":0},'
        b'"functions":{},"classes":{},"nodes":[["Lit",[1]]]}',
        b'{"format":1,"module":"m","path":"m.py","imports":{},"globals":{"X":1},'
        b'"functions":{},"classes":{},"nodes":[["Lit","a"]]}',
        b'{"format":1,"module":"m","path":"m.py","imports":{},"globals":{"X":0},'
        b'"functions":{},"classes":{},"nodes":[["Seq",[0]]]}',
        b'{"format":1,"module":"m","path":"m.py","imports":{},"globals":{"X":0},'
        b'"functions":{},"classes":{},"nodes":[["Exec","os.system"]]}',
        b'{"format":1,"module":"m","path":"m.py","imports":{},"globals":{},'
        b'"functions":{"f":0},"classes":{},"nodes":[["Lit","a"]]}',
        b"[" * 100_000,
    ],
)
def test_malformed_entries_are_format_errors(data: bytes) -> None:
    with pytest.raises(FormatError):
        decode(data)


def test_a_summary_survives_the_round_trip_with_shared_nodes() -> None:
    source = b'X = "UPDATE tasks SET status = ?"\n' + b"".join(
        f"X{i} = (X, X)\nX = X{i}\n".encode() for i in range(40)
    )
    summary = summarize(source, "m.py", "m", METHODS)[0]
    data = encode(summary)
    assert len(data) < 200_000  # shared sub-expressions are stored once, not 2**40 times
    again = decode(data)
    deepest = again.globals["m.X39"]
    assert deepest.items[0] is deepest.items[1]  # still shared after loading
    small = summarize(source[: source.index(b"X12 =")], "m.py", "m", METHODS)[0]
    assert decode(encode(small)) == small


@pytest.mark.parametrize("name", ["dict_set_lists.py", "kwargs_writers.py", "request_models.py"])
def test_comprehensions_keywords_and_models_survive_the_round_trip(name: str) -> None:
    """Comprehensions keep their iterable, `**kwargs` and `**mapping` their place,
    parameters their declared class and models their fields, through the cache."""
    path = Path(__file__).parents[1] / "fixtures" / "lint" / "single" / name
    summary = summarize(path.read_bytes(), name, name[:-3], METHODS)[0]
    assert decode(encode(summary)) == summary


def test_conditions_survive_the_round_trip() -> None:
    """A helper's returned test and a call used as a condition are data in the cache."""
    name = "condition_helpers.py"
    path = Path(__file__).parents[1] / "fixtures" / "lint" / "single" / name
    summary = summarize(path.read_bytes(), name, name[:-3], METHODS)[0]
    again = decode(encode(summary))
    assert again == summary
    assert isinstance(again.functions["condition_helpers.is_valid"].returns[0], Check)
    guarded = again.functions["condition_helpers.move"].sinks[0].data.items[0]
    assert isinstance(guarded.allow, Holds) and guarded.allow.truth is True


def test_an_unusable_store_only_costs_speed(tmp_path: Path) -> None:
    root = service(tmp_path / "svc")
    (tmp_path / "cache" / FILE).mkdir(parents=True)  # a folder where the store should be
    code, data = _lint(root, "--cache-dir", str(tmp_path / "cache"))
    assert code == 1 and len(data["findings"]) == 2


def test_the_key_changes_with_the_summariser_code(monkeypatch: pytest.MonkeyPatch) -> None:
    key = cache_key(b"x = 1\n", "m", "m.py", METHODS)
    cache_module.code_digest.cache_clear()
    monkeypatch.setattr(cache_module, "code_digest", lambda: "another version")
    assert cache_key(b"x = 1\n", "m", "m.py", METHODS) != key


def test_entries_round_trip_through_the_store(tmp_path: Path) -> None:
    store = SummaryCache(tmp_path / "c")
    code = b"def f(conn):\n    conn.execute('UPDATE tasks SET status = 1')\n"
    summary = summarize(code, "m.py", "m", METHODS)[0]
    assert store.get("k", "m", "m.py") is None
    store.put_all([("k", summary)])
    store.close()
    again = SummaryCache(tmp_path / "c")
    assert again.get("k", "m", "m.py") == summary
    assert again.get("k", "other", "m.py") is None  # a summary of another file is a miss
    assert (tmp_path / "c" / "CACHEDIR.TAG").is_file()


def test_chunks_moved_by_new_lines_are_reused_in_their_new_place(tmp_path: Path) -> None:
    source = (service(tmp_path / "svc") / "board" / "db.py").read_bytes()
    store = SummaryCache(tmp_path / "c")
    first, fresh = summarize(source, "board/db.py", "board.db", METHODS, store.get_chunk)
    store.put_all([], fresh)
    moved = b"# a new header\n# of two lines\n" + source
    again, fresh_again = summarize(moved, "board/db.py", "board.db", METHODS, store.get_chunk)
    assert fresh and fresh_again == []  # every chunk came from the store
    assert again == summarize(moved, "board/db.py", "board.db", METHODS)[0]  # placed right
    assert again != first


def test_a_chunk_is_summarised_again_when_a_name_in_a_forward_reference_changes(
    tmp_path: Path,
) -> None:
    """`body: "Patch"` resolves `Patch` through the module's imports: importing it from
    elsewhere must not reuse the handler's stored summary."""
    handler = b'\n\ndef handler(conn, task_id, body: "Patch"):\n    save(conn, task_id, body)\n'
    before = b"from models import Patch\nfrom store import save\n" + handler
    after = b"from schemas import Patch\nfrom store import save\n" + handler
    store = SummaryCache(tmp_path / "c")
    store.put_all([], summarize(before, "api.py", "api", METHODS, store.get_chunk)[1])
    reused, _ = summarize(after, "api.py", "api", METHODS, store.get_chunk)
    assert reused == summarize(after, "api.py", "api", METHODS)[0]
    assert "schemas.Patch" in repr(reused.functions["api.handler"].annotations)


def test_an_entry_under_another_key_is_a_miss(tmp_path: Path) -> None:
    """A signature covers the key: an entry copied to another file's key is not read."""
    store = SummaryCache(tmp_path / "c")
    summary = summarize(b"X = 1\n", "m.py", "m", METHODS)[0]
    store.put_all([("k", summary)])
    store.close()
    conn = sqlite3.connect(tmp_path / "c" / FILE)
    conn.execute("INSERT INTO summaries SELECT 'k2', created, data FROM summaries WHERE key = 'k'")
    conn.commit()
    conn.close()
    again = SummaryCache(tmp_path / "c")
    assert again.get("k", "m", "m.py") == summary
    assert again.get("k2", "m", "m.py") is None


def test_the_signing_key_is_made_once_and_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache_module.user_secret.cache_clear()
    try:
        first = cache_module.user_secret()
        cache_module.user_secret.cache_clear()
        assert first is not None and cache_module.user_secret() == first
        path = tmp_path / "xdg" / "kanban-audit" / "secret"
        assert path.stat().st_mode & 0o777 == 0o600
        assert sorted(p.name for p in path.parent.iterdir()) == ["secret"]
    finally:
        cache_module.user_secret.cache_clear()


def test_no_place_for_the_key_is_one_warning_and_no_cache(tmp_path: Path) -> None:
    root = service(tmp_path / "svc")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    env = {**os.environ, "XDG_CACHE_HOME": str(blocked)}
    done = run_cli("lint", "--format", "json", "--cache-dir", tmp_path / "c", cwd=root, env=env)
    plain_code, plain = _lint(root, "--no-cache")
    assert (done.returncode, json.loads(done.stdout)["findings"]) == (plain_code, plain["findings"])
    key = blocked / "kanban-audit" / "secret"
    assert (
        done.stderr
        == f"kanban-audit: warning: cannot read or make the cache's key {key}: no cache\n"
    )
    assert not (tmp_path / "c").exists()


def test_verdicts_round_trip_and_only_signed_ones_count(tmp_path: Path) -> None:
    store = SummaryCache(tmp_path / "c")
    store.put_flags({"s1": True, "s2": False})
    store.close()
    conn = sqlite3.connect(tmp_path / "c" / FILE)
    forged = [("s3", signed(os.urandom(32), "s3", b"0")), ("s4", b"1"), ("s5", b"")]
    conn.executemany("INSERT INTO summaries VALUES (?, 0, ?)", forged)
    conn.commit()
    conn.close()
    again = SummaryCache(tmp_path / "c")
    keys = ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert again.get_flags(keys) == {"s1": True, "s2": False}


def test_a_file_that_starts_writing_is_a_seed_on_the_next_warm_run(tmp_path: Path) -> None:
    root = tmp_path / "svc"
    root.mkdir()
    api = root / "api.py"
    api.write_text("def start(conn, task_id):\n    return task_id\n")
    cache = ["--cache-dir", str(tmp_path / "c")]
    assert _lint(root, *cache) == (0, _lint(root, "--no-cache")[1])
    api.write_text(
        "def start(conn, task_id):\n"
        "    conn.execute(\"UPDATE tasks SET status = 'running' WHERE id = ?\", (task_id,))\n"
    )
    code, warm = _lint(root, *cache)
    assert code == 1 and [f["code"] for f in warm["findings"]] == ["KA001"]


def test_a_batch_is_written_in_one_transaction(tmp_path: Path) -> None:
    """The store's connection is in autocommit mode: without a transaction of its own,
    every row of a batch would be one, each waiting for the disk."""
    store = SummaryCache(tmp_path / "c")
    store.put_flags({"s0": True})  # opens the store
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    store.put_flags({"s1": True, "s2": False, "s3": True})
    writes = [s.split()[0] for s in statements if s.split()[0] in ("BEGIN", "INSERT", "COMMIT")]
    assert writes == ["BEGIN", "INSERT", "INSERT", "INSERT", "COMMIT"]


def test_a_first_run_interrupted_while_making_the_folder_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C between making the cache folder and writing its `.gitignore` (simulated:
    the instant cannot be hit from outside) leaves nothing behind, and the next run
    makes the folder whole, not one without its `.gitignore`."""
    real_open = os.open

    def interrupted(path: str | os.PathLike[str], *args: object, **kwargs: object) -> int:
        if str(path).endswith(".gitignore"):
            raise KeyboardInterrupt
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", interrupted)
    with pytest.raises(KeyboardInterrupt):
        SummaryCache(tmp_path / "c").put_flags({"s1": True})
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    store = SummaryCache(tmp_path / "c")
    store.put_flags({"s1": True})
    assert (tmp_path / "c" / ".gitignore").read_text() == "*\n"
    assert store.get_flags(["s1"]) == {"s1": True}
