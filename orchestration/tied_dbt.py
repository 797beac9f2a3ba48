"""`segments-dbt`: the dbt command line, tied to the run that starts it (dagster-dbt's dbt executable here).

A killed run (kill -9 included) releases its lock, so the dbt it started must not go on without it. The kernel
kills this process when its parent dies (PR_SET_PDEATHSIG outlives the exec into dbt), from before dbt's own
start-up: a dbt still importing when its run dies is gone at once, not after its imports.
"""

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when `parent` (the run) dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if parent == 1 or os.getppid() != parent:  # the run died before the line above took effect
            os._exit(1)


def main() -> None:
    die_with_parent(os.getppid())
    if os.environ.get("SEGMENTS_DBT_TARGET", "").startswith("spark"):
        # dbt in this process: it runs the Python models on its own Spark session (orchestration/spark.py)
        from orchestration.spark import dbt_main

        sys.exit(dbt_main(sys.argv[1:]))
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(dbt, [str(dbt), *sys.argv[1:]])
