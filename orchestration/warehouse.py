"""What the pipeline reads back after dbt (checks, fit metadata, publication): the engine's tables, through one
read-only DuckDB connection, under the names dbt gave them (raw.orders, marts.customer_segments).

On DuckDB that is the warehouse file itself. On Spark the loader's raw tables stay in the warehouse file, and every
table dbt built is Parquet that Spark wrote under SEGMENTS_SPARK_DIR/warehouse/<schema>.db/<table>/ (profiles.yml,
`file_format: parquet`): an in-memory connection shows both, the raw tables through the file attached read-only and
each Spark table as a view over its files. So every reader runs the same SQL on both engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.db import connect, execute_one, ident, literal
from orchestration.settings import Settings


def spark_tables(spark_dir: Path) -> dict[tuple[str, str], Path]:
    """(schema, table) -> folder of every table Spark's warehouse holds (its raw tables live outside it)."""
    warehouse = spark_dir / "warehouse"
    return {(schema.name.removesuffix(".db"), table.name): table
            for schema in sorted(warehouse.glob("*.db")) if schema.name != "raw.db"
            for table in sorted(schema.iterdir()) if table.is_dir() and not table.name.startswith((".", "_"))}


def parquet_of(folder: Path) -> str:
    """A table's Parquet files as DuckDB reads them; a partitioned table keeps its partition column in folder names."""
    return f"read_parquet({literal(str(folder) + '/**/*.parquet')}, hive_partitioning = true)"


@contextmanager
def read_warehouse(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The engine's tables, read-only (see the module's docstring)."""
    if settings.engine == "duckdb":
        with connect(settings.warehouse, settings, read_only=True) as con:
            yield con
        return
    with connect(":memory:", settings) as con:
        if settings.warehouse.exists():
            con.execute(f"attach {literal(settings.warehouse)} as landed (read_only)")
            con.execute("create schema raw")
            for (table,) in con.execute("select table_name from duckdb_tables() "
                                        "where database_name = 'landed' and schema_name = 'raw'").fetchall():
                execute_one(con, f"create view raw.{ident(table)} as select * from landed.raw.{ident(table)}")
        for (schema, table), folder in spark_tables(settings.spark_dir).items():
            if not any(folder.rglob("*.parquet")):
                continue  # a table Spark is still creating
            execute_one(con, f"create schema if not exists {ident(schema)}")
            execute_one(con, f"create view {ident(schema)}.{ident(table)} as select * from {parquet_of(folder)}")
        yield con
