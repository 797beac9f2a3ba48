"""Benchmark `segments run` phase by phase against one plain DuckDB query over the same raw data.

    uv run python benchmarks/run.py                 # 1M and 10M orders
    uv run python benchmarks/run.py --orders 200000 # a quick look

For each size: generate a landing zone (customers = orders / 10), run the real pipeline
in-process, take each step's wall time from Dagster's events and split the dbt step into
transform (seeds and models) and checks (data and unit tests) by dbt's own node timings; then time
a single DuckDB query computing recency, frequency and monetary per customer straight from the
landing files. Ratios are against that query, measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.demo import DemoSpec, generate

OUT = Path(__file__).resolve().parent / "out"

PLAIN_RFM = """
    with orders as (
        select customer_id, try_cast(order_ts as timestamptz) as ts,
               try_cast(total_amount as decimal(18, 2))
                 - coalesce(try_cast(discount_amount as decimal(18, 2)), 0) as net
        from read_csv('{landing}/orders_*.csv', all_varchar = true)
        where lower(status) = 'completed'
    )
    select customer_id,
           date_diff('day', max(ts)::date, (select max(ts)::date from orders)) as recency_days,
           count(*) as frequency, sum(net) as monetary
    from orders where ts is not null group by customer_id
"""


def dbt_test_share(target: Path) -> float:
    """Share of dbt's node time spent testing (data and unit tests) rather than building (seeds, models)."""
    runs = sorted(target.glob("dbt_models-*/run_results.json"), key=lambda p: p.stat().st_mtime)
    results = json.loads(runs[-1].read_text())["results"]
    build = sum(r["execution_time"] for r in results if r["unique_id"].split(".")[0] in ("model", "seed"))
    test = sum(r["execution_time"] for r in results if r["unique_id"].split(".")[0] in ("test", "unit_test"))
    return test / (build + test)


def bench(orders: int, workdir: Path) -> dict:
    shutil.rmtree(workdir, ignore_errors=True)
    landing = workdir / "landing"
    os.environ.update({
        "SEGMENTS_LANDING_DIR": str(landing),
        "SEGMENTS_WAREHOUSE": str(workdir / "warehouse.duckdb"),
        "SEGMENTS_PUBLISH_DIR": str(workdir / "publish"),
    })
    began = time.perf_counter()
    generate(landing, DemoSpec(customers=max(orders // 10, 100), orders=orders))
    generated = time.perf_counter() - began

    from orchestration.runner import execute_job, phase_seconds
    from orchestration.settings import PROJECT_ROOT

    instance = dg.DagsterInstance.ephemeral()
    began = time.perf_counter()
    result = execute_job(workdir / "run.log", instance)
    total = time.perf_counter() - began
    if not result.success:
        sys.exit(f"run failed at {orders} orders; see {workdir / 'run.log'}")
    # the phases `segments run` reports; the dbt step also runs the dbt tests, which are checks
    phases = phase_seconds(instance, result.run_id)
    dbt_tests = phases["transform"] * dbt_test_share(PROJECT_ROOT / "target")
    phases["transform"] -= dbt_tests
    phases["checks"] += dbt_tests
    phases["run_total"] = total

    with duckdb.connect() as con:
        began = time.perf_counter()
        con.execute(f"create table rfm as {PLAIN_RFM.format(landing=landing)}")
        plain = time.perf_counter() - began
    return {
        "orders": orders,
        "generate_s": round(generated, 2),
        "plain_rfm_query_s": round(plain, 3),
        **{f"{k}_s": round(v, 2) for k, v in phases.items()},
        **{f"{k}_ratio": round(v / plain, 1) for k, v in phases.items()},
        "peak_rss_mb_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "peak_rss_mb_dbt": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = parser.parse_args()
    rows = [bench(n, OUT / f"orders_{n}") for n in args.orders]
    print(json.dumps(rows, indent=2))
    (OUT / "results.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
