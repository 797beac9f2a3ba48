"""The segment_sizes_stable check: a warning, never a failure, when a business segment's customers or revenue move
by more than kpi_max_change between runs or it falls under min_segment_size."""

import dagster as dg
import duckdb

from orchestration.defs.checks.segment_sizes import segment_sizes_stable


def summarise(warehouse, rows: list[tuple]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.segment_summary (dimension varchar, segment varchar, "
                    "customers bigint, revenue decimal(18, 2))")
        con.executemany("insert into marts.segment_summary values (?, ?, ?, ?)", rows)


def test_moves_beyond_the_limit_and_small_segments_warn_and_a_steady_run_passes(workspace):
    warehouse = workspace / "warehouse.duckdb"
    first = [("business_segment", "high_value", 100, 5000), ("business_segment", "silent", 200, 900),
             ("value_tier", "high", 1, 1)]  # not a segments.yml dimension: never checked
    summarise(warehouse, first)
    result = segment_sizes_stable()
    assert result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.description == "first run: sizes kept for the next; every segment at least 20 customers"

    # the same sizes, then +19 % customers: within the shipped kpi_max_change of 20 %
    summarise(warehouse, first)
    assert segment_sizes_stable().passed
    summarise(warehouse, [("business_segment", "high_value", 119, 5000), ("business_segment", "silent", 200, 900)])
    assert segment_sizes_stable().passed

    # revenue of high_value halves, silent shrinks under min_segment_size (20), a new segment appears
    summarise(warehouse, [("business_segment", "high_value", 119, 2500), ("business_segment", "silent", 12, 900),
                          ("business_segment", "new", 30, 300)])
    result = segment_sizes_stable()
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.description.split("; ") == [
        "business_segment/high_value: revenue 5000 -> 2500 (-50%)",
        "business_segment/silent: customers 200 -> 12 (-94%)",
        "business_segment/silent: 12 customers, under min_segment_size 20",
    ]
