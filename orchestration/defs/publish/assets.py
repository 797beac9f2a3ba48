"""Publish the marts for BI once every blocking check has passed."""

import dagster as dg

from orchestration.db import connect
from orchestration.defs.transform.assets import docs_file
from orchestration.freshness import recorded_inputs
from orchestration.publish import PUBLISHED_TABLES, PublicationError, publish
from orchestration.settings import Settings


@dg.asset(
    key=["publish", "bi_publication"],
    group_name="publish",
    deps=[dg.AssetKey(["marts", table]) for table in PUBLISHED_TABLES],
    kinds={"duckdb", "parquet"},
    required_resource_keys={"run_lock"},
)
def bi_publication(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Switch bi.duckdb and current/*.parquet to a new complete release of the published tables."""
    settings = Settings.from_env()
    try:
        docs = docs_file(settings)
        with connect(settings.warehouse, settings, read_only=True) as con:
            inputs = recorded_inputs(con)
        result = publish(settings, settings.publish_dir, keep=settings.keep_publications,
                         docs=docs if docs.exists() else None, inputs=inputs)
    except PublicationError as error:
        raise dg.Failure(str(error)) from error
    context.log.info(f"published {result.release_dir.name} to {settings.publish_dir}")
    with connect(result.bi_file, settings, read_only=True) as con:
        as_of = con.execute("select max(as_of_date) from customer_segments").fetchone()[0]
        distribution = con.execute(
            "select dimension, segment, customers, share_of_customers, share_of_revenue from segment_summary "
            "where dimension in ('business_segment', 'value_tier', 'lifecycle_stage') "
            "order by dimension, customers desc").fetchall()
        preview = con.execute(
            "select customer_id, business_segment, value_tier, lifecycle_stage, rfm_segment, monetary, clv "
            "from customer_segments order by clv desc, customer_id limit 10").fetchall()
    return dg.MaterializeResult(
        metadata={
            "as_of_date": str(as_of),
            "publish_dir": dg.MetadataValue.path(str(settings.publish_dir)),
            "report": dg.MetadataValue.path(str(result.release_dir / "report.html")),
            "release": result.release_dir.name,
            "segment_distribution": dg.MetadataValue.md(_markdown(
                ["dimension", "segment", "customers", "share of customers", "share of revenue"],
                [(d, s, n, f"{c:.1%}", f"{r:.1%}") for d, s, n, c, r in distribution])),
            "top_customers_by_clv": dg.MetadataValue.md(_markdown(
                ["customer_id", "business_segment", "value_tier", "lifecycle_stage", "rfm_segment", "monetary",
                 "clv"], preview)),
            **{f"rows/{table}": count for table, count in result.row_counts.items()},
        }
    )


def _markdown(headers: list[str], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
