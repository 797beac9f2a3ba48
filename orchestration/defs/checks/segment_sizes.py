"""A warning when the segments that marketing acts on (the segments.yml dimensions) change size or revenue by more
than kpi_max_change between runs, or fall under min_segment_size: a data problem or a rule change shows here before
a campaign goes to the wrong audience."""

import json
from pathlib import Path

import dagster as dg
import yaml

from orchestration import rules
from orchestration.settings import Settings
from orchestration.warehouse import read_warehouse

SEGMENT_SUMMARY = dg.AssetKey(["marts", "segment_summary"])
PROJECT = Path(__file__).resolve().parents[3] / "dbt_project.yml"


def parameter(compiled: dict, name: str) -> float:
    """A segments.yml parameter, else its default in dbt_project.yml."""
    if name in compiled["parameters"]:
        return compiled["parameters"][name]
    return yaml.safe_load(PROJECT.read_text(encoding="utf-8"))["vars"][name]


def sizes_file(settings: Settings) -> Path:
    """Where the last run's segment sizes wait for the next run (beside the warehouse)."""
    return settings.warehouse.parent / "segment_sizes.json"


@dg.asset_check(asset=SEGMENT_SUMMARY, blocking=False)
def segment_sizes_stable() -> dg.AssetCheckResult:
    """Each segment of the segments.yml dimensions: customers and revenue within kpi_max_change of the last run,
    and at least min_segment_size customers."""
    settings = Settings.from_env()
    compiled = rules.load()
    max_change, min_size = parameter(compiled, "kpi_max_change"), parameter(compiled, "min_segment_size")
    dimensions = [dimension["name"] for dimension in compiled["dimensions"]]
    with read_warehouse(settings) as con:
        rows = con.execute("select dimension, segment, customers, cast(revenue as double) from marts.segment_summary "
                           "where list_contains(?, dimension) order by 1, 2", [dimensions]).fetchall()
    now = {f"{dimension}/{segment}": {"customers": customers, "revenue": revenue or 0.0}
           for dimension, segment, customers, revenue in rows}
    path = sizes_file(settings)
    before = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    problems = []
    for key in sorted(set(now) | set(before)):
        for measure in ("customers", "revenue"):
            old, new = before.get(key, {}).get(measure), now.get(key, {}).get(measure, 0)
            if old is not None and abs(new - old) > max_change * max(abs(old), 1):
                problems.append(f"{key}: {measure} {old:g} -> {new:g} ({(new - old) / max(abs(old), 1):+.0%})")
        if key in now and now[key]["customers"] < min_size:
            problems.append(f"{key}: {now[key]['customers']} customers, under min_segment_size {min_size:g}")
    path.write_text(json.dumps(now, indent=1, sort_keys=True), encoding="utf-8")
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(problems) if problems else (
            f"every segment within {max_change:.0%} of the last run and at least {min_size:g} customers"
            if before else f"first run: sizes kept for the next; every segment at least {min_size:g} customers"),
        metadata={"segments": dg.MetadataValue.json(now), "problems": len(problems)},
    )
