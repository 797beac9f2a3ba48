"""Segment history by day as Dagster daily partitions: backfilling a range of partitions evaluates the segments as
of each of its days (orchestration/history.py). `segments backfill` launches the same job."""

import warnings
from datetime import timedelta

import dagster as dg

from orchestration.history import HISTORY_START, BackfillError, days_between, evaluate_day
from orchestration.settings import Settings

daily = dg.DailyPartitionsDefinition(start_date=HISTORY_START, end_offset=1)


# a backfill of many days is one run (one lock, one dbt parse); Dagster calls the policy a beta parameter
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=Warning)


@dg.asset(
    key=["history", "segment_days"],
    group_name="history",
    partitions_def=daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[dg.AssetKey(["intermediate", "int_customers_segmented"])],
    kinds={"dbt", "duckdb"},
    required_resource_keys={"run_lock"},
)
def segment_days(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """The segments of each day of the partitions (one day or a backfilled range), as if the pipeline had run as
    of it, into int_segment_days. The next daily run (or `segments backfill`, which runs it) rebuilds
    segment_history with them and publishes."""
    settings = Settings.from_env()
    window = context.partition_time_window  # its end is the day after the last partition
    days = days_between(window.start.date(), window.end.date() - timedelta(days=1))
    for day in days:
        try:
            evaluate_day(settings, day, log=context.log.debug)
        except BackfillError as error:
            raise dg.Failure(str(error)) from error
        context.log.info(f"segments evaluated as of {day}")
    return dg.MaterializeResult(metadata={"days": len(days), "first": str(days[0]), "last": str(days[-1])})


segments_backfill = dg.define_asset_job(
    "segments_backfill",
    selection=dg.AssetSelection.groups("history"),
    partitions_def=daily,
    description="Evaluate the segments as of each day of the partitions chosen (history by day).",
)
