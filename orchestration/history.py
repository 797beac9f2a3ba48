"""Segment history by day: the segments of a past day, evaluated as if the pipeline had run as of it.

A run records the segments of its own as-of date in int_segment_days. `segments backfill --from D1 --to D2`
(Dagster: the daily partitions of history/segment_days) evaluates the other days: for each day, dbt rebuilds the
tables that lead to the segments, as of that day and without the month-end history (history_months 0: only the
day itself is evaluated), and int_segment_days replaces that day's rows. A day evaluated so gives the rows a run as
of that day records, so a backfill and a run per day leave the same history (tests/test_history.py). The landed rows
and daily aggregates (incremental models) are not rebuilt: they must be current, so the backfill first runs the
pipeline, and it runs it again at the end, which rebuilds segment_history with the days and publishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from orchestration.dbt_project import PROJECT_ROOT, dbt_vars
from orchestration.settings import Settings

# the first day a backfill can reach (the first daily partition of history/segment_days)
HISTORY_START = "2000-01-01"

# the tables between the daily aggregates and the day's segments, and the table of days itself
DAY_SELECTION = ["+int_segment_days,config.materialized:table", "int_segment_days"]


class BackfillError(RuntimeError):
    """A day could not be evaluated; the message says why in one line."""


def days_between(start: date, end: date) -> list[date]:
    if end < start:
        raise BackfillError(f"--from {start} is after --to {end}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def require_duckdb(settings: Settings) -> None:
    """Days are evaluated into the DuckDB warehouse; on Spark a backfill is refused before anything runs."""
    if settings.engine != "duckdb":
        raise BackfillError("segments backfill evaluates days on the DuckDB warehouse; it does not run on "
                            "SEGMENTS_ENGINE=spark yet (README, 'Beyond one machine')")


def evaluate_day(settings: Settings, day: date, log=None) -> None:
    """The segments as of `day` into int_segment_days (replacing that day's rows). The caller holds the run lock."""
    require_duckdb(settings)
    if not settings.warehouse.exists():
        raise BackfillError(f"no warehouse at {settings.warehouse}: run `segments run` first")
    variables = {**dbt_vars(replace(settings, as_of=day)), "history_months": 0}
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "run", "--select", *DAY_SELECTION, "--vars", json.dumps(variables),
               "--target-path", str(PROJECT_ROOT / "target" / "history")]
    settings.export_to_environ()
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=dict(os.environ), capture_output=True, text=True)
    if log:
        log(result.stdout)
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if "Error" in line]
        raise BackfillError(f"dbt failed as of {day}: {(errors or ['see the dbt output'])[-1].strip()}")
