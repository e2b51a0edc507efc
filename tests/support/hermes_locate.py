"""Ask one real Hermes release where its board is: `kanban_db_path()` and `list_boards()`.

Run as `python hermes_locate.py RELEASE_DIR` with a JSON list of environments on
stdin (each a dict of variables; `HOME` among them). For each, the process's
`HERMES_*` variables and `HOME` are replaced by it and the release's own
functions are called; nothing is created. The output is one JSON list of
`{"db": path, "boards": [slug, ...]}`, or `{"error": "Type: message"}`.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _ask(kanban_db: Any, env: dict[str, str]) -> dict[str, Any]:
    for name in [k for k in os.environ if k.startswith("HERMES_")]:
        del os.environ[name]
    os.environ.update(env)
    try:
        db = str(kanban_db.kanban_db_path())
        boards = [b["slug"] for b in kanban_db.list_boards()]
    except Exception as exc:  # the release's own failure is the answer
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"db": db, "boards": boards}


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    from hermes_cli import kanban_db

    print(json.dumps([_ask(kanban_db, env) for env in json.loads(sys.stdin.read())]))


if __name__ == "__main__":
    main()
