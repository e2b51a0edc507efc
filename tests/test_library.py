"""The README's library example runs and prints what the README shows."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import time
from pathlib import Path

from support import boards

REPO = Path(__file__).resolve().parents[1]


def _example() -> tuple[str, str]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Library") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"that prints:\n\n```\n(.*?)```", section, re.S).group(1)
    return code, shown


def test_the_readme_example_prints_what_it_says(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    conn = boards.create(tmp_path / "kanban.db")
    boards.direct_write(conn, "t1", int(time.time()))
    conn.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HERMES_KANBAN_DB", raising=False)
    code, shown = _example()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})  # the page's own code
    assert out.getvalue() == shown
    assert os.path.exists(tmp_path / "kanban.db")
