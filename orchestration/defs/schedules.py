"""The daily run: land, transform, check and publish everything, unless nothing it reads has changed."""

import dagster as dg

from orchestration.freshness import nothing_new
from orchestration.settings import Settings, SettingsError

segments_job = dg.define_asset_job(
    "segments_daily",
    # history/segment_days is partitioned by day: backfills of it are the segments_backfill job
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("history"),
    description="Load the landing zone, build and test the dbt models, publish for BI.",
)


@dg.schedule(
    name="segments_daily_schedule",
    job=segments_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_schedule(context: dg.ScheduleEvaluationContext):
    """Every morning at 05:00 UTC; a tick whose landing files, code, rules and settings are those of the current
    publication is skipped, since the run would publish the same tables."""
    try:
        release = nothing_new(Settings.from_env())
    except SettingsError:
        release = None  # the run itself refuses the setting, with its one-line reason
    if release:
        return dg.SkipReason(f"nothing new since release {release}: landing files, code, rules and settings "
                             "are those it was published from")
    return dg.RunRequest()
