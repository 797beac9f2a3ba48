"""dbt-duckdb plugin: give every dbt connection and cursor the pseudonym key, read from the environment.

The key never passes through dbt vars, so it is not in the manifest, run_results or logs.
"""

import os

from dbt.adapters.duckdb.plugins import BasePlugin

from orchestration.db import set_pseudonym_key
from orchestration.settings import DEMO_PSEUDONYM_KEY


def _key() -> str:
    return os.environ.get("SEGMENTS_PSEUDONYM_KEY", "").strip() or DEMO_PSEUDONYM_KEY


class Plugin(BasePlugin):
    def configure_connection(self, conn):
        set_pseudonym_key(conn, _key())

    def configure_cursor(self, cursor):
        set_pseudonym_key(cursor, _key())
        return cursor
