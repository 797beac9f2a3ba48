"""Publish the marts for BI once every blocking check has passed."""

import dagster as dg

from orchestration.defs.transform.assets import docs_file
from orchestration.publish import PUBLISHED_TABLES, PublicationError, publish
from orchestration.settings import Settings


@dg.asset(
    key=["publish", "bi_publication"],
    group_name="publish",
    deps=[dg.AssetKey(["marts", table]) for table in PUBLISHED_TABLES],
    kinds={"duckdb", "parquet"},
)
def bi_publication(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Switch bi.duckdb and current/*.parquet to a new complete release of the published tables."""
    settings = Settings.from_env()
    try:
        docs = docs_file(settings)
        result = publish(settings.warehouse, settings.publish_dir, keep=settings.keep_publications,
                         docs=docs if docs.exists() else None)
    except PublicationError as error:
        raise dg.Failure(str(error)) from error
    context.log.info(f"published {result.release_dir.name} to {settings.publish_dir}")
    return dg.MaterializeResult(
        metadata={
            "publish_dir": str(settings.publish_dir),
            "release": result.release_dir.name,
            **{f"rows/{table}": count for table, count in result.row_counts.items()},
        }
    )
