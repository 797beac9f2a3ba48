"""The daily run: land, transform, check and publish everything."""

import dagster as dg

segments_job = dg.define_asset_job(
    "segments_daily",
    selection=dg.AssetSelection.all(),
    description="Load the landing zone, build and test the dbt models, publish for BI.",
)

daily_schedule = dg.ScheduleDefinition(
    job=segments_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

