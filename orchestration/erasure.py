"""Right to erasure (`segments forget`): a customer removed from raw, warehouse, history, every kept release
and the audience files, recorded by keyed hash only, and kept out of every later load."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from orchestration.db import connect, execute_one, ident, literal
from orchestration.freshness import INPUTS_FILE
from orchestration.incremental import forget_state
from orchestration.landing import ERASED, ensure_raw_schema, withhold_rows
from orchestration.lock import run_lock
from orchestration.privacy import keyed_hash
from orchestration.publish import build_bi_file
from orchestration.report import build_report
from orchestration.settings import Settings
from orchestration.spark import export_landing
from orchestration.warehouse import spark_tables

ERASURE_LOG = "erasure_log"


@dataclass
class Erasure:
    customer_hash: str
    already_erased: bool
    tables: list[str] = field(default_factory=list)
    rows_removed: int = 0
    order_ids: list[str] = field(default_factory=list, repr=False)


def forget(settings: Settings, customer_ids: list[str]) -> list[Erasure]:
    """Erase each customer; a customer erased before is erased again (new copies) but logged once."""
    with run_lock(settings, purpose="segments forget"):
        erasures = _erase_in_warehouse(settings, customer_ids)
        if settings.engine == "spark":
            _erase_in_spark(settings, customer_ids, erasures)
        for release in _releases(settings.publish_dir):
            _erase_in_release(release, settings, customer_ids)
    return erasures


def _erase_in_warehouse(settings: Settings, customer_ids: list[str]) -> list[Erasure]:
    key = settings.pseudonym_key
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with connect(settings.warehouse, settings) as con:
        ensure_raw_schema(con)
        tables = con.execute("""
            select table_schema, table_name, list(column_name) from information_schema.columns
            join information_schema.tables using (table_catalog, table_schema, table_name)
            where table_type = 'BASE TABLE' group by all order by all""").fetchall()
        erasures = []
        con.execute("begin transaction")
        for customer_id in customer_ids:
            customer_hash = keyed_hash(key, customer_id)
            already = con.execute("select count(*) from raw.erasures where customer_hash = ?",
                                  [customer_hash]).fetchone()[0] > 0
            order_ids = [o for (o,) in con.execute(
                "select distinct order_id from raw.orders where customer_id = ?", [customer_id]).fetchall()]
            erasure = Erasure(customer_hash, already, order_ids=order_ids)
            if order_ids:
                con.executemany("insert into raw.erased_keys values ('order_id', ?)",
                                [[keyed_hash(key, o)] for o in order_ids])
            con.execute("insert into raw.erased_keys values ('customer_id', ?)", [customer_hash])
            for schema, table, columns in tables:
                removed = _delete_rows(con, schema, table, columns, customer_id, order_ids)
                if removed:
                    erasure.tables.append(f"{schema}.{table}")
                    erasure.rows_removed += removed
            if not already:
                con.execute("insert into raw.erasures values (?, ?, ?, ?)",
                            [customer_hash, datetime.now(UTC).replace(tzinfo=None), ",".join(erasure.tables),
                             erasure.rows_removed])
            erasures.append(erasure)
        # raw rows changed in place, which the incremental models cannot see: the next build starts over
        forget_state(con)
        con.execute(
            "delete from raw.erased_keys where rowid not in "
            "(select min(rowid) from raw.erased_keys group by key_type, key_hash)")
        con.execute("commit")
        # deleted rows must not linger in the file's free blocks
        con.execute("checkpoint")
    return erasures


def _delete_rows(con, schema: str, table: str, columns: list[str], customer_id: str, order_ids: list[str]) -> int:
    where, parameters = _erased_rows(columns, customer_id, order_ids)
    if not where:
        return 0
    if schema == "raw" and "_row_number" in columns:
        return withhold_rows(con, table, where, parameters)
    relation = f"{ident(schema)}.{ident(table)}"
    count = execute_one(con, f"select count(*) from {relation} where {where}", parameters).fetchone()[0]
    if not count:
        return 0
    if (schema, table) == ("raw", "malformed_rows"):
        # still counted as quarantined in load_audit, with nothing of the line kept
        execute_one(con, f"update {relation} set reason = 'erased_customer', original_record = null, "
                         f"redacted_record = null, error_message = ? where {where}", [ERASED, *parameters])
    else:
        execute_one(con, f"delete from {relation} where {where}", parameters)
    return count


def _erase_in_spark(settings: Settings, customer_ids: list[str], erasures: list[Erasure]) -> None:
    """On Spark: the raw tables handed over again without the customers, and every file of every table Spark built
    rewritten without their rows (each replaced by rename; the next build starts over, as on DuckDB)."""
    with connect(settings.warehouse, settings, read_only=True) as con:
        export_landing(con, settings.spark_dir)
    with connect(":memory:", settings) as con:
        for folder in spark_tables(settings.spark_dir).values():
            for parquet in sorted(folder.rglob("*.parquet")):
                source = f"read_parquet({literal(parquet)})"
                columns = [row[0] for row in con.execute(f"describe select * from {source}").fetchall()]
                conditions, parameters = [], []
                for customer_id, erasure in zip(customer_ids, erasures, strict=True):
                    where, values = _erased_rows(columns, customer_id, erasure.order_ids)
                    if where:
                        conditions.append(f"({where})")
                        parameters += values
                if not conditions:
                    continue
                erased = " or ".join(conditions)
                if execute_one(con, f"select count(*) from {source} where {erased}", parameters).fetchall()[0][0]:
                    _rewrite_without(con, parquet, erased, parameters)


def _rewrite_without(con, parquet: Path, erased: str, parameters: list) -> None:
    """The Parquet file rewritten without the rows `erased` (a condition on its columns) selects, replaced by rename
    so that a reader sees the old file or the new one."""
    temporary = parquet.with_name(f".{parquet.name}.tmp")
    execute_one(con, f"copy (select * from read_parquet({literal(parquet)}) where not coalesce({erased}, false)) "
                     f"to {literal(temporary)} (format parquet)", parameters)
    os.replace(temporary, parquet)
    # Hadoop's local file system (Spark's tables) checks a file against its .crc sidecar when there is one
    parquet.with_name(f".{parquet.name}.crc").unlink(missing_ok=True)


def _erased_rows(columns: list[str], customer_id: str, order_ids: list[str]) -> tuple[str, list]:
    """A filter for the rows of a table that belong to the customer, with its parameters."""
    where = []
    parameters: list = []
    if "customer_id" in columns:
        where.append(f"{ident('customer_id')} = ?")
        parameters.append(customer_id)
    if "order_id" in columns and order_ids:
        where.append(f"{ident('order_id')} in (select unnest(?))")
        parameters.append(order_ids)
    if "original_record" in columns:
        # quarantined and malformed copies: the customer id as a whole field of the record
        where.append("list_contains(regexp_split_to_array(original_record, '[,{}\":]+'), ?)")
        parameters.append(customer_id)
    return " or ".join(where), parameters


def _releases(publish_dir: Path) -> list[Path]:
    releases = publish_dir / "releases"
    if not releases.is_dir():
        return []
    return sorted(p for p in releases.iterdir() if p.is_dir() and not p.name.startswith("."))


def _erase_in_release(release: Path, settings: Settings, customer_ids: list[str]) -> None:
    """Rewrite each file of a kept release without the customers; every file is replaced by rename."""
    with connect(":memory:", settings) as con:
        for parquet in sorted(release.glob("*.parquet")):
            columns = [row[0] for row in con.execute(f"describe select * from read_parquet({literal(parquet)})")
                       .fetchall()]
            if "customer_id" in columns:
                _rewrite_without(con, parquet, "list_contains(?, customer_id)", [customer_ids])
    _write_erasure_log(release, settings)
    _rewrite_audiences(release / "audiences", set(customer_ids))
    # the release no longer holds what its inputs give (the next run rebuilds its summaries without the customers)
    (release / INPUTS_FILE).unlink(missing_ok=True)
    tables = tuple(sorted(p.stem for p in release.glob("*.parquet")))
    temporary = release / ".bi.duckdb.tmp"
    temporary.unlink(missing_ok=True)
    build_bi_file(release, tables, temporary)
    os.replace(temporary, release / "bi.duckdb")
    if (release / "report.html").exists():
        build_report(release / "bi.duckdb", release,
                     docs_link="docs/index.html" if (release / "docs").is_dir() else None)


def _write_erasure_log(release: Path, settings: Settings) -> None:
    temporary = release / f".{ERASURE_LOG}.parquet.tmp"
    with connect(settings.warehouse, settings, read_only=True) as con:
        execute_one(con, f"copy ({ERASURE_LOG_QUERY}) to {literal(temporary)} (format parquet)")
    os.replace(temporary, release / f"{ERASURE_LOG}.parquet")


# the published shape (models/marts/erasure_log.sql reads the same table)
ERASURE_LOG_QUERY = (
    "select customer_hash, erased_at, tables, rows_removed from raw.erasures order by erased_at, customer_hash")


def _rewrite_audiences(folder: Path, customer_ids: set[str]) -> None:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        kept = [rows[0], *(row for row in rows[1:] if row and row[0] not in customer_ids)]
        if len(kept) == len(rows):
            continue
        temporary = path.with_name(f".{path.name}.tmp")
        with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(kept)
        os.replace(temporary, path)
