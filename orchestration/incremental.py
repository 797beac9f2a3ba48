"""When a dbt build may be incremental, and when it must rebuild everything.

Staging, triage and the daily aggregates keep what earlier runs computed (macros/incremental.sql). That is
only right while the code, seeds and settings those rows were computed with are unchanged, so a build
records a fingerprint of them, and a build whose fingerprint differs from the recorded one is a full
refresh. A segments.yml change needs no full refresh: the rules apply only downstream of the aggregates.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from orchestration.db import connect
from orchestration.privacy import keyed_hash
from orchestration.settings import PROJECT_ROOT, Settings

# everything an incremental model's rows depend on besides the landed data
INPUTS = ("models", "macros", "seeds", "dbt_project.yml")
STATE_TABLE = "raw.incremental_state"


def hash_project_files(digest, names: tuple[str, ...]) -> None:
    """Feed each file under the named project folders (or the named files), path and content, into digest."""
    for name in names:
        root = PROJECT_ROOT / name
        for path in sorted(root.rglob("*") if root.is_dir() else [root]):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")


def fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256()
    hash_project_files(digest, INPUTS)
    # staged rows hold pseudonyms made with the key, and amounts in the reporting currency
    digest.update(keyed_hash(settings.pseudonym_key, "incremental-state").encode())
    digest.update(settings.reporting_currency.encode())
    return digest.hexdigest()


def last_build(settings: Settings, current: str) -> Literal["none", "same", "other"]:
    """How the warehouse's incremental tables were built: not yet, with this fingerprint (the code, seeds and
    settings of this run, so its seeds too are loaded as they are), or with other ones (a full refresh is due)."""
    if not Path(settings.warehouse).exists():
        return "none"
    with connect(settings.warehouse, settings) as con:
        con.execute(f"create table if not exists {STATE_TABLE} (fingerprint varchar, built_at timestamp)")
        recorded = con.execute(f"select fingerprint from {STATE_TABLE}").fetchall()
        if recorded:
            return "same" if recorded[0][0] == current else "other"
        # no record but incremental tables present: built before fingerprints were kept
        return "other" if has_incremental_tables(con) else "none"


def has_incremental_tables(con) -> bool:
    """Whether a build has run yet: staging holds the first incremental tables."""
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = 'staging'").fetchone()[0] > 0


def record(settings: Settings, current: str) -> None:
    """After a successful build: its incremental tables match this fingerprint."""
    with connect(settings.warehouse, settings) as con:
        con.execute("begin transaction")
        _replace_state(con, current)
        con.execute("commit")


def forget_state(con) -> None:
    """After an erasure rewrote raw rows in place: the next build rebuilds every incremental table from raw."""
    _replace_state(con, "erased")


def _replace_state(con, fingerprint: str) -> None:
    con.execute(f"create table if not exists {STATE_TABLE} (fingerprint varchar, built_at timestamp)")
    con.execute(f"delete from {STATE_TABLE}")
    con.execute(f"insert into {STATE_TABLE} values (?, now()::timestamp)", [fingerprint])
