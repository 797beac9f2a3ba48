"""dbt-duckdb plugin: give every dbt connection and cursor the pseudonym key, read from the environment, and
tie the dbt process's life to the run that started it.

The key never passes through dbt vars, so it is not in the manifest, run_results or logs.
"""

import ctypes
import os
import signal
import sys

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.db import set_pseudonym_key
from orchestration.settings import DEMO_PSEUDONYM_KEY

PR_SET_PDEATHSIG = 1


def _key() -> str:
    return os.environ.get("SEGMENTS_PSEUDONYM_KEY", "").strip() or DEMO_PSEUDONYM_KEY


def die_with_parent() -> None:
    """When the run is killed (kill -9 included) its lock is released; dbt must not go on writing without it."""
    if not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the line above took effect
        os._exit(1)


class Plugin(BasePlugin):
    def initialize(self, plugin_config):
        die_with_parent()

    def configure_connection(self, conn):
        set_pseudonym_key(conn, _key())

    def configure_cursor(self, cursor):
        set_pseudonym_key(cursor, _key())
        return cursor
