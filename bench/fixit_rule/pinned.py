"""Run the `fixit` command with its process pool pinned to a given size.

    python bench/fixit_rule/pinned.py JOBS [fixit arguments...]

Fixit 2.x lints files in a `spawn` process pool of `os.cpu_count()` workers and
has no option to change that; the benchmark compares tools at the same number of
processes, so this sets trailrunner's executor factory and then runs Fixit's own
command line unchanged. With JOBS equal to the core count it is plain `fixit`.
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import trailrunner
from fixit.cli import main

if __name__ == "__main__":
    jobs = int(sys.argv.pop(1))
    trailrunner.Trailrunner.DEFAULT_EXECUTOR = partial(
        ProcessPoolExecutor, jobs, mp_context=multiprocessing.get_context("spawn")
    )
    main(prog_name="fixit")
