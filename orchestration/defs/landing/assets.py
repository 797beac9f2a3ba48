"""Land the files of the landing zone into the warehouse's raw schema."""

import dagster as dg

from orchestration.contract import ENTITY_COLUMNS, REQUIRED_ENTITIES
from orchestration.db import connect
from orchestration.freshness import inputs_digest, record_inputs
from orchestration.landing import (
    ResourceExhaustedError,
    UnreadableFileError,
    ensure_raw_schema,
    landing_files,
    load_entity,
)
from orchestration.settings import Settings
from orchestration.spark import export_landing

RAW_TABLES = (*ENTITY_COLUMNS, "load_files", "malformed_rows")

# written by `segments forget` (orchestration/erasure.py), outside any run; marts/erasure_log reads it
erasures = dg.AssetSpec(
    ["raw", "erasures"],
    group_name="landing",
    description="One row per customer erased by `segments forget`: keyed hash, time, tables; no personal data.",
    kinds={"duckdb"},
)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            group_name="landing",
            description=f"Landed rows of {table}, every column as text, with source file and load time (on Spark "
                        "also handed over as Parquet).",
            kinds={"duckdb"},
        )
        for table in RAW_TABLES
    ],
    can_subset=False,
    required_resource_keys={"run_lock"},
)
def raw_tables(context: dg.AssetExecutionContext):
    """Load new landing-zone files (skipping any file already loaded with the same content)."""
    settings = Settings.from_env()
    if not settings.landing_dir.is_dir():
        raise dg.Failure(f"landing folder {settings.landing_dir} does not exist (SEGMENTS_LANDING_DIR)")
    for entity in REQUIRED_ENTITIES:
        if not landing_files(settings.landing_dir, entity):
            raise dg.Failure(
                f"no {entity}*.csv or {entity}*.parquet file in {settings.landing_dir}; "
                f"{' and '.join(REQUIRED_ENTITIES)} are required")
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    inputs = inputs_digest(settings)  # before any file is read: one that changes while it loads runs again
    summary: dict[str, dict] = {}
    with connect(settings.warehouse, settings) as con:
        ensure_raw_schema(con)
        record_inputs(con, inputs)
        for entity in ENTITY_COLUMNS:
            try:
                loads = load_entity(con, settings.landing_dir, entity, settings.pseudonym_key, settings.temp_dir)
            except (UnreadableFileError, ResourceExhaustedError) as error:
                raise dg.Failure(str(error)) from error
            for load in loads:
                if load.dropped_columns:
                    context.log.warning(
                        f"{load.source_file}: dropped protected columns {load.dropped_columns} at load")
                if load.empty:
                    context.log.warning(f"{load.source_file}: empty file (0 bytes), recorded with no rows")
            summary[entity] = {
                "files_loaded": [x.source_file for x in loads if not x.skipped],
                "files_skipped": [x.source_file for x in loads if x.skipped],
                "rows_read": sum(x.rows_read for x in loads),
                "rows_malformed": sum(x.rows_malformed for x in loads),
                "dropped_columns": sorted({c for x in loads for c in x.dropped_columns}),
            }
            context.log.info(f"{entity}: {summary[entity]}")
        totals = {
            table: con.execute(f"select count(*) from raw.{table}").fetchone()[0] for table in RAW_TABLES
        }
        if settings.engine == "spark":
            # Spark reads the landed rows as Parquet (macros/landing.sql): every raw table, whole, each swapped in
            handed = export_landing(con, settings.spark_dir)
            context.log.info(f"handed {sum(handed.values())} raw rows of {len(handed)} tables to Spark under "
                             f"{settings.spark_dir / 'raw'}")
    for table in RAW_TABLES:
        entity_summary = summary.get(table, {})
        yield dg.MaterializeResult(
            asset_key=["raw", table],
            metadata={
                "dagster/row_count": totals[table],
                "landing_dir": str(settings.landing_dir),
                **{key: dg.MetadataValue.json(value) if isinstance(value, list) else value
                   for key, value in entity_summary.items()},
            },
        )
