"""Whether anything a run reads has changed since the current publication, so that a run with nothing new costs
nothing: the daily schedule skips its tick and `segments run` says so, instead of rebuilding identical tables.

A run's inputs are the landing files (name, size, modification time, taken before they are read), the code
(dbt project, expectations, the Python package, the lock file), segments.yml and every resolved setting. The
landing step records their digest in the warehouse; the publication copies it into its release. When the digest
of now equals the current release's, the publication is what a run would publish (the tables are a function of
these inputs and SEGMENTS_AS_OF, CONTRACT section 3). Any doubt runs: a missing or damaged publication, a
warehouse that is missing or holds another digest, a digest from before this was kept, a full refresh, a
`segments forget` (which removes the digests of the releases it rewrites).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

import duckdb

from orchestration.contract import entity_of
from orchestration.db import connect
from orchestration.incremental import hash_project_files
from orchestration.privacy import keyed_hash
from orchestration.settings import Settings

CODE = ("models", "macros", "seeds", "tests/dbt", "expectations", "orchestration", "dbt_project.yml",
        "profiles.yml", "pyproject.toml", "uv.lock")
INPUTS_FILE = "inputs.sha256"
INPUTS_TABLE = "raw.run_inputs"


def inputs_digest(settings: Settings) -> str:
    digest = hashlib.sha256()
    for name, stamp in landing_stamps(settings.landing_dir):
        digest.update(f"landing\0{name}\0{stamp}\0".encode())
    hash_project_files(digest, CODE)
    if settings.rules_file.is_file():
        digest.update(b"rules\0" + settings.rules_file.read_bytes() + b"\0")
    resolved = {key: str(value) for key, value in asdict(settings).items() if key != "pseudonym_key"}
    resolved["pseudonym_key"] = keyed_hash(settings.pseudonym_key, "run-inputs")
    digest.update(repr(sorted(resolved.items())).encode())
    return digest.hexdigest()


def landing_stamps(landing_dir: Path) -> list[tuple[str, str]]:
    """(name, size:mtime) of each file a run would read; a file rewritten in place changes its stamp. Cheap to
    read every minute (the landing-zone sensor compares them), unlike a hash."""
    if not landing_dir.is_dir():
        return []
    stamps = []
    for path in sorted(landing_dir.iterdir()):
        if path.is_file() and entity_of(path.name):
            status = path.stat()
            stamps.append((path.name, f"{status.st_size}:{status.st_mtime_ns}"))
    return stamps


def record_inputs(con, digest: str) -> None:
    """The landing step's digest, in the warehouse, for the publication of this run to copy."""
    con.execute(f"create or replace table {INPUTS_TABLE} as select ?::varchar as digest", [digest])


def recorded_inputs(con) -> str | None:
    found = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'run_inputs'"
    ).fetchone()[0]
    return con.execute(f"select digest from {INPUTS_TABLE}").fetchone()[0] if found else None


def published_inputs(publish_dir: Path) -> str | None:
    """The digest of the current release, if it is whole (its BI file and every table file are there)."""
    from orchestration.publish import PUBLISHED_TABLES

    current = publish_dir / "current"
    if not (current.is_dir() and (publish_dir / "bi.duckdb").exists() and (current / "bi.duckdb").is_file()):
        return None
    if not all((current / f"{table}.parquet").is_file() for table in PUBLISHED_TABLES):
        return None
    try:
        return (current / INPUTS_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def nothing_new(settings: Settings) -> str | None:
    """The current release's name when it, and the warehouse it came from, were built from exactly the inputs a
    run would read now."""
    published = published_inputs(settings.publish_dir)
    if published is None or published != inputs_digest(settings) or not settings.warehouse.is_file():
        return None
    try:
        with connect(settings.warehouse, settings, read_only=True) as con:
            built = recorded_inputs(con)
    except duckdb.Error:  # held by a writer, or not a warehouse: a run finds out
        return None
    return (settings.publish_dir / "current").resolve().name if built == published else None
