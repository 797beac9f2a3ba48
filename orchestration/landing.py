"""Land raw files into the warehouse as all-text rows, keeping every malformed row visible."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.contract import (
    ENTITY_COLUMNS,
    METADATA_COLUMNS,
    REQUIRED_COLUMNS,
    entity_of,
    is_protected,
    normalise_column,
)

REJECT_REASONS = {"INVALID ENCODING": "invalid_encoding"}


class UnreadableFileError(RuntimeError):
    """A landing file that cannot be read at all; the run stops and nothing is published."""


@dataclass
class FileLoad:
    entity: str
    source_file: str
    file_hash: str
    rows_read: int = 0
    rows_malformed: int = 0
    dropped_columns: list[str] = field(default_factory=list)
    skipped: bool = False


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create raw tables for every contract entity, so optional ones exist (empty) for dbt."""
    con.execute("create schema if not exists raw")
    for entity, columns in ENTITY_COLUMNS.items():
        cols = ", ".join(f'"{c}" varchar' for c in columns)
        con.execute(
            f"create table if not exists raw.{entity} ({cols}, _source_file varchar, "
            "_file_hash varchar, _row_number bigint, _loaded_at timestamp)")
    con.execute("""
        create table if not exists raw.load_files (
            entity varchar, source_file varchar, file_hash varchar, rows_read bigint,
            rows_malformed bigint, dropped_columns varchar[], loaded_at timestamp)""")
    con.execute("""
        create table if not exists raw.malformed_rows (
            entity varchar, source_file varchar, file_hash varchar, line bigint, reason varchar,
            error_message varchar, original_record varchar, loaded_at timestamp)""")


def landing_files(landing_dir: Path, entity: str) -> list[Path]:
    """Files of one entity in the landing zone, in name order (so loads are reproducible)."""
    return sorted(p for p in landing_dir.iterdir() if p.is_file() and entity_of(p.name) == entity)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_entity(con: duckdb.DuckDBPyConnection, landing_dir: Path, entity: str) -> list[FileLoad]:
    """Load every not-yet-loaded file of an entity; a file already loaded with the same hash is skipped."""
    ensure_raw_schema(con)
    return [load_file(con, entity, path) for path in landing_files(landing_dir, entity)]


def load_file(con: duckdb.DuckDBPyConnection, entity: str, path: Path) -> FileLoad:
    ensure_raw_schema(con)
    result = FileLoad(entity=entity, source_file=path.name, file_hash=file_hash(path))
    already = con.execute(
        "select count(*) from raw.load_files where entity = ? and source_file = ? and file_hash = ?",
        [entity, path.name, result.file_hash]).fetchone()[0]
    if already:
        result.skipped = True
        return result
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        scan, columns = _scan(con, path)
        missing = [c for c in REQUIRED_COLUMNS[entity] if c not in columns]
        if missing:
            raise UnreadableFileError(f"cannot read {path}: no column {', '.join(missing)} (required for {entity})")
        kept = [c for c in columns if not is_protected(c)]
        result.dropped_columns = [c for c in columns if is_protected(c)]
        _add_missing_columns(con, entity, kept)
        select_list = ", ".join(f'"{c}"' for c in kept)
        con.execute(
            f"insert into raw.{entity} by name "
            f"select {select_list}, ? as _source_file, ? as _file_hash, "
            f"row_number() over () as _row_number, ? as _loaded_at from {scan}",
            [path.name, result.file_hash, loaded_at])
        result.rows_read = con.execute(
            f"select count(*) from raw.{entity} where _source_file = ? and _file_hash = ?",
            [path.name, result.file_hash]).fetchone()[0]
        result.rows_malformed = _keep_rejects(con, result, loaded_at) if path.suffix.lower() == ".csv" else 0
        result.rows_read += result.rows_malformed
        con.execute(
            "insert into raw.load_files values (?, ?, ?, ?, ?, ?, ?)",
            [entity, path.name, result.file_hash, result.rows_read, result.rows_malformed,
             result.dropped_columns, loaded_at])
        con.execute("commit")
    except UnreadableFileError:
        con.execute("rollback")
        raise
    except duckdb.Error as error:
        con.execute("rollback")
        first_line = str(error).strip().splitlines()[0]
        raise UnreadableFileError(f"cannot read {path}: {first_line}") from error
    return result


def _scan(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[str, list[str]]:
    """A table expression over the file with every column as text, and its normalised columns."""
    literal = "'" + str(path).replace("'", "''") + "'"
    if path.suffix.lower() == ".parquet":
        described = con.execute(f"describe select * from read_parquet({literal})").fetchall()
        nested = [f"{name} ({kind})" for name, kind, *_ in described if kind.endswith("]") or "(" in kind
                  and kind.split("(")[0] in ("STRUCT", "MAP", "UNION")]
        if nested:
            raise UnreadableFileError(f"cannot read {path}: nested columns are not in the contract: {nested}")
        names = [row[0] for row in described]
        columns = [normalise_column(n) for n in names]
        casts = ", ".join(f'cast("{n}" as varchar) as "{c}"' for n, c in zip(names, columns, strict=True))
        return f"(select {casts} from read_parquet({literal}))", columns
    columns = [normalise_column(n) for n in _csv_header(path)]
    if len(set(columns)) != len(columns) or not all(columns):
        raise UnreadableFileError(f"cannot read {path}: header has blank or repeated column names")
    types = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in columns) + "}"
    con.execute("drop table if exists temp.csv_rejects; drop table if exists temp.csv_scans")
    return (
        f"read_csv({literal}, columns = {types}, auto_detect = false, header = true, "
        "delim = ',', quote = '\"', escape = '\"', store_rejects = true, "
        "rejects_table = 'csv_rejects', rejects_scan = 'csv_scans')"
    ), columns


def _csv_header(path: Path) -> list[str]:
    # Only the header is read here; bad bytes further down are DuckDB's to reject row by row.
    with path.open("rb") as handle:
        head = handle.read(1 << 20).decode("utf-8", errors="replace").removeprefix("\ufeff")
    try:
        header = next(csv.reader(io.StringIO(head, newline="")), None)
    except csv.Error as error:
        raise UnreadableFileError(f"cannot read {path}: {error}") from None
    if not header:
        raise UnreadableFileError(f"cannot read {path}: empty file, no header row")
    if any("\ufffd" in column for column in header):
        raise UnreadableFileError(f"cannot read {path}: header is not UTF-8 text")
    return header


def _add_missing_columns(con: duckdb.DuckDBPyConnection, entity: str, columns: list[str]) -> None:
    """Unknown extra columns are kept in raw (CONTRACT section 1): widen the table to hold them."""
    existing = {row[0] for row in con.execute(f"describe raw.{entity}").fetchall()}
    for column in columns:
        if column in METADATA_COLUMNS:
            raise UnreadableFileError(f"column {column!r} is reserved for load metadata")
        if column not in existing:
            con.execute(f'alter table raw.{entity} add column "{column}" varchar')


def _keep_rejects(con: duckdb.DuckDBPyConnection, load: FileLoad, loaded_at: datetime) -> int:
    rows = con.execute(
        "select line, error_type, error_message, csv_line from temp.csv_rejects "
        "qualify row_number() over (partition by line order by column_idx) = 1 order by line"
    ).fetchall()
    for line, error_type, message, original in rows:
        con.execute(
            "insert into raw.malformed_rows values (?, ?, ?, ?, ?, ?, ?, ?)",
            [load.entity, load.source_file, load.file_hash, line,
             REJECT_REASONS.get(error_type, "malformed_row"), message, original, loaded_at])
    return len(rows)
