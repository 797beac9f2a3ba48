"""Every DuckDB connection of the pipeline, and the only ways names and values from outside reach SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from orchestration.settings import Settings

PSEUDONYM_VARIABLE = "segments_pseudonym_key"


class SqlShapeError(ValueError):
    """Built SQL that does not hold exactly one statement; never executed."""


def ident(name: str) -> str:
    """A double-quoted identifier: whatever a header holds stays a name, never SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A single-quoted string literal, for the places DuckDB takes no parameter (paths in COPY, read_csv)."""
    return "'" + str(value).replace("'", "''") + "'"


def execute_one(con: duckdb.DuckDBPyConnection, sql: str, parameters: list | None = None):
    """Execute built SQL only when it is one statement: a name that slipped through cannot add a second."""
    count = len(con.extract_statements(sql))
    if count != 1:
        raise SqlShapeError(f"refusing to execute built SQL holding {count} statements")
    return con.execute(sql, parameters) if parameters is not None else con.execute(sql)


def set_pseudonym_key(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """The secret lives in the session only (never in the file, the dbt manifest or the logs)."""
    con.execute(f"set variable {PSEUDONYM_VARIABLE} = {literal(key)}")


def connect(path: Path | str, settings: Settings | None = None, read_only: bool = False,
            config: dict[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with the run's memory cap, threads and spill folder, able to read pseudonymised views. Every
    DuckDB connection the pipeline opens comes from here (tests/test_settings.py holds the code to it)."""
    settings = settings or Settings.from_env()
    settings.temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config={**settings.duckdb_config(), **(config or {})})
    set_pseudonym_key(con, settings.pseudonym_key)
    return con
