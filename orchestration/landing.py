"""Land raw files into the warehouse as all-text rows, keeping every malformed row visible."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.contract import (
    ENTITY_COLUMNS,
    METADATA_COLUMNS,
    REQUIRED_COLUMNS,
    REQUIRED_ENTITIES,
    entity_of,
    is_pii,
    is_protected,
    normalise_column,
)
from orchestration.db import execute_one, ident, literal
from orchestration.privacy import keyed_hash, redact_text

REJECT_REASONS = {"INVALID ENCODING": "invalid_encoding"}
ERASED = "withheld, the customer was erased (segments forget)"
WITHHELD = "line withheld: the file carries protected columns and this line's fields do not match its header"


class UnreadableFileError(RuntimeError):
    """A landing file that cannot be read at all; the run stops and nothing is published."""


class ResourceExhaustedError(RuntimeError):
    """The machine, not the file, ran out: memory or spill space. The message says which setting to change."""


@dataclass
class FileLoad:
    entity: str
    source_file: str
    file_hash: str
    rows_read: int = 0
    rows_malformed: int = 0
    dropped_columns: list[str] = field(default_factory=list)
    skipped: bool = False
    empty: bool = False


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create raw tables for every contract entity, so optional ones exist (empty) for dbt."""
    con.execute("create schema if not exists raw")
    for entity, columns in ENTITY_COLUMNS.items():
        cols = ", ".join(f"{ident(c)} varchar" for c in columns)
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
    # the copy quarantine shows: direct identifiers replaced by their pseudonym
    con.execute("alter table raw.malformed_rows add column if not exists redacted_record varchar")
    # segments forget (orchestration/erasure.py): who was erased, and the keys a later load keeps out
    con.execute("""
        create table if not exists raw.erasures (
            customer_hash varchar, erased_at timestamp, tables varchar, rows_removed bigint)""")
    con.execute("create table if not exists raw.erased_keys (key_type varchar, key_hash varchar)")


def landing_files(landing_dir: Path, entity: str) -> list[Path]:
    """Files of one entity in the landing zone, in name order (so loads are reproducible)."""
    return sorted(p for p in landing_dir.iterdir() if p.is_file() and entity_of(p.name) == entity)


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_entity(con: duckdb.DuckDBPyConnection, landing_dir: Path, entity: str, pseudonym_key: str = "",
                spool_dir: Path | None = None) -> list[FileLoad]:
    """Load every not-yet-loaded file of an entity; a file already loaded with the same hash is skipped."""
    ensure_raw_schema(con)
    return [load_file(con, entity, path, pseudonym_key, spool_dir) for path in landing_files(landing_dir, entity)]


def load_file(con: duckdb.DuckDBPyConnection, entity: str, path: Path, pseudonym_key: str = "",
              spool_dir: Path | None = None) -> FileLoad:
    ensure_raw_schema(con)
    stamp = _stamp(path)
    result = FileLoad(entity=entity, source_file=path.name, file_hash=file_hash(path))
    already = con.execute(
        "select count(*) from raw.load_files where entity = ? and source_file = ? and file_hash = ?",
        [entity, path.name, result.file_hash]).fetchone()[0]
    if already:
        result.skipped = True
        return result
    loaded_at = _next_load_time(con)
    if path.stat().st_size == 0:
        if entity in REQUIRED_ENTITIES:
            raise UnreadableFileError(f"cannot read {path}: empty file (0 bytes), {entity} files need a header row")
        # an optional entity with nothing to say this time: recorded as read, zero rows
        result.empty = True
        _record_file(con, result, loaded_at)
        return result
    con.execute("begin transaction")
    try:
        with _consistent_line_endings(path, spool_dir) as readable:
            scan, header, columns = _scan(con, readable, path)
            missing = [c for c in REQUIRED_COLUMNS[entity] if c not in columns]
            if missing:
                raise UnreadableFileError(
                    f"cannot read {path}: no column {', '.join(missing)} (required for {entity})")
            kept = [c for c in columns if not is_protected(c)]
            result.dropped_columns = [c for c in columns if is_protected(c)]
            _add_missing_columns(con, entity, kept)
            select_list = ", ".join(ident(c) for c in kept)
            execute_one(
                con,
                f"insert into raw.{entity} by name "
                f"select {select_list}, ? as _source_file, ? as _file_hash, "
                f"row_number() over () as _row_number, ? as _loaded_at from {scan}",
                [path.name, result.file_hash, loaded_at])
        # rows of erased customers move from raw to malformed_rows: counted once, as withheld
        withheld = _withhold_erased(con, result, pseudonym_key)
        result.rows_read = con.execute(
            f"select count(*) from raw.{entity} where _source_file = ? and _file_hash = ?",
            [path.name, result.file_hash]).fetchone()[0]
        if path.suffix.lower() == ".csv":
            result.rows_malformed = _keep_rejects(con, result, loaded_at, header, pseudonym_key)
        result.rows_malformed += withheld
        result.rows_read += result.rows_malformed
        if _stamp(path) != stamp:
            raise UnreadableFileError(
                f"cannot read {path}: it changed while it was being loaded (still being written?); "
                "nothing of it was loaded, the next run loads it whole")
        _record_file(con, result, loaded_at)
        con.execute("commit")
    except (UnreadableFileError, ResourceExhaustedError):
        con.execute("rollback")
        raise
    except (duckdb.OutOfMemoryException, OSError) as error:
        con.execute("rollback")
        raise ResourceExhaustedError(_resource_message(error, path)) from error
    except duckdb.Error as error:
        con.execute("rollback")
        if _is_resource_error(error):
            raise ResourceExhaustedError(_resource_message(error, path)) from error
        first_line = str(error).strip().splitlines()[0]
        raise UnreadableFileError(f"cannot read {path}: {first_line}") from error
    return result


# which key of an entity names an erased customer (or an order of one)
ERASABLE_KEYS = {"customers": "customer_id", "orders": "customer_id", "web_events": "customer_id",
                 "feedback": "customer_id", "segment_overrides": "customer_id", "order_items": "order_id"}


def _withhold_erased(con: duckdb.DuckDBPyConnection, load: FileLoad, key: str) -> int:
    """Rows of customers erased by `segments forget` leave raw at once, counted with no values kept."""
    column = ERASABLE_KEYS.get(load.entity)
    if column is None or not con.execute("select count(*) from raw.erased_keys").fetchone()[0]:
        return 0
    this_file = "_source_file = ? and _file_hash = ?"
    erased = (f"sha256(?::varchar || sha256(?::varchar || {ident(column)})) in "
              f"(select key_hash from raw.erased_keys where key_type = ?)")
    parameters = [load.source_file, load.file_hash, key, key, column]
    if load.entity == "orders":
        # their order lines in later files are withheld too
        execute_one(con, f"insert into raw.erased_keys select 'order_id', sha256(?::varchar || sha256(?::varchar "
                         f"|| order_id)) from raw.orders where {this_file} and {erased}",
                    [key, key, *parameters])
    return withhold_rows(con, load.entity, f"{this_file} and {erased}", parameters)


def withhold_rows(con: duckdb.DuckDBPyConnection, entity: str, where: str, parameters: list) -> int:
    """Move an erased customer's landed rows out of raw, leaving an `erased_customer` placeholder (file and
    row number, no values) in malformed_rows so that rows_read = accepted + quarantined + duplicate holds."""
    relation = f"raw.{ident(entity)}"
    count = execute_one(con, f"select count(*) from {relation} where {where}", parameters).fetchone()[0]
    if count:
        execute_one(
            con,
            "insert into raw.malformed_rows by name select ? as entity, _source_file as source_file, "
            "_file_hash as file_hash, null as line, 'erased_customer' as reason, "
            "'row ' || _row_number || ': ' || ? as error_message, null as original_record, "
            f"_loaded_at as loaded_at, null as redacted_record from {relation} where {where}",
            [entity, ERASED, *parameters])
        execute_one(con, f"delete from {relation} where {where}", parameters)
    return count


def _next_load_time(con: duckdb.DuckDBPyConnection) -> datetime:
    """Now, but always after every earlier load: incremental models find new rows by this stamp
    (macros/incremental.sql), so a clock set back must not hide a file behind older loads."""
    now = datetime.now(UTC).replace(tzinfo=None)
    latest = con.execute("select max(loaded_at) from raw.load_files").fetchone()[0]
    return max(now, latest + timedelta(microseconds=1)) if latest else now


def _record_file(con: duckdb.DuckDBPyConnection, load: FileLoad, loaded_at: datetime) -> None:
    con.execute(
        "insert into raw.load_files values (?, ?, ?, ?, ?, ?, ?)",
        [load.entity, load.source_file, load.file_hash, load.rows_read, load.rows_malformed,
         load.dropped_columns, loaded_at])


RESOURCE_PATTERNS = re.compile(
    r"no space left|disk is full|out of memory|could not allocate|max_temp_directory_size|"
    r"failed to (allocate|write)|temp(orary)? (directory|file)", re.IGNORECASE)


def _is_resource_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.OutOfMemoryException) or bool(RESOURCE_PATTERNS.search(str(error)))


def _resource_message(error: BaseException, path: Path) -> str:
    first_line = (str(error).strip().splitlines() or ["no detail"])[0]
    return (f"ran out of memory or spill space while loading {path.name} (the file is not at fault): {first_line}; "
            "raise SEGMENTS_MEMORY_LIMIT or free space in SEGMENTS_TEMP_DIR")


@contextmanager
def _consistent_line_endings(path: Path, spool_dir: Path | None):
    """The file itself, or a copy with CRLF turned into LF when it mixes both (DuckDB fails such a file whole)."""
    if path.suffix.lower() != ".csv" or not _mixes_line_endings(path):
        yield path
        return
    spool_dir = spool_dir or Path(tempfile.gettempdir())
    spool_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool_dir, suffix=".csv", prefix=".lf-") as copy:
        with path.open("rb") as source:
            held = b""
            for chunk in iter(lambda: source.read(1 << 20), b""):
                data = held + chunk
                held = b"\r" if data.endswith(b"\r") else b""
                copy.write((data[:-1] if held else data).replace(b"\r\n", b"\n"))
            copy.write(held)
        copy.flush()
        yield Path(copy.name)


def _mixes_line_endings(path: Path) -> bool:
    crlf = lf_only = 0
    last = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            pairs = chunk.count(b"\r\n") + (1 if last == b"\r" and chunk.startswith(b"\n") else 0)
            crlf += pairs
            lf_only += chunk.count(b"\n") - pairs
            if crlf and lf_only:
                return True
            last = chunk[-1:]
    return False


def _scan(con: duckdb.DuckDBPyConnection, readable: Path, path: Path) -> tuple[str, list[str], list[str]]:
    """A table expression over the file with every column as text, its header and its normalised columns."""
    source = literal(readable)
    if path.suffix.lower() == ".parquet":
        described = con.execute(f"describe select * from read_parquet({source})").fetchall()
        nested = [f"{name} ({kind})" for name, kind, *_ in described if kind.endswith("]") or "(" in kind
                  and kind.split("(")[0] in ("STRUCT", "MAP", "UNION")]
        if nested:
            raise UnreadableFileError(f"cannot read {path}: nested columns are not in the contract: {nested}")
        names = [row[0] for row in described]
        columns = _checked_columns([normalise_column(n) for n in names], path)
        casts = ", ".join(
            f"cast({ident(n)} as varchar) as {ident(c)}" for n, c in zip(names, columns, strict=True)
            if not is_protected(c))
        return f"(select {casts} from read_parquet({source}))", names, columns
    header = _csv_header(path)
    columns = _checked_columns([normalise_column(n) for n in header], path)
    types = "{" + ", ".join(f"{literal(c)}: 'VARCHAR'" for c in columns) + "}"
    con.execute("drop table if exists temp.csv_rejects")
    con.execute("drop table if exists temp.csv_scans")
    return (
        f"read_csv({source}, columns = {types}, auto_detect = false, header = true, "
        "delim = ',', quote = '\"', escape = '\"', store_rejects = true, "
        "rejects_table = 'csv_rejects', rejects_scan = 'csv_scans')"
    ), header, columns


def _checked_columns(columns: list[str], path: Path) -> list[str]:
    if len(set(columns)) != len(columns) or not all(columns):
        raise UnreadableFileError(f"cannot read {path}: header has blank or repeated column names")
    return columns


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
            execute_one(con, f"alter table raw.{entity} add column {ident(column)} varchar")


def _keep_rejects(con: duckdb.DuckDBPyConnection, load: FileLoad, loaded_at: datetime, header: list[str],
                  pseudonym_key: str) -> int:
    rows = con.execute(
        "select line, error_type, error_message, csv_line from temp.csv_rejects "
        "qualify row_number() over (partition by line order by column_idx) = 1 order by line"
    ).fetchall()
    protected = {i for i, name in enumerate(header) if is_protected(name)}
    identifying = {i for i, name in enumerate(header) if is_pii(name)}
    for line, error_type, message, original in rows:
        kept, redacted = scrub_line(original, len(header), protected, identifying, pseudonym_key)
        con.execute(
            "insert into raw.malformed_rows by name select ? as entity, ? as source_file, ? as file_hash, "
            "? as line, ? as reason, ? as error_message, ? as original_record, ? as loaded_at, "
            "? as redacted_record",
            [load.entity, load.source_file, load.file_hash, line, REJECT_REASONS.get(error_type, "malformed_row"),
             message if kept is not None or not protected else f"{message} ({WITHHELD})", kept, loaded_at,
             redacted])
    return len(rows)


def scrub_line(line: str | None, width: int, protected: set[int], identifying: set[int], key: str
               ) -> tuple[str | None, str | None]:
    """A malformed line without its protected fields (kept in raw), and a copy with identifiers pseudonymised.

    Where the line's fields cannot be matched to the header, a file with protected columns gives
    nothing at all (a shifted field could be the protected one); identifiers are then found by pattern.
    """
    if line is None:
        return None, None
    try:
        fields = next(csv.reader(io.StringIO(line.rstrip("\r\n"), newline="")), [])
    except csv.Error:
        fields = None
    if protected:
        if fields is None or len(fields) != width:
            return None, None
        fields = [f for i, f in enumerate(fields) if i not in protected]
        kept_positions = [i for i in range(width) if i not in protected]
        identifying = {n for n, i in enumerate(kept_positions) if i in identifying}
        line = _csv_line(fields)
    if fields is None:
        return line, redact_text(line, key)
    aligned = len(fields) == width - len(protected)
    redacted = [keyed_hash(key, f) if aligned and i in identifying and f else redact_text(f, key)
                for i, f in enumerate(fields)]
    return line, _csv_line(redacted)


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()
