"""Benchmark `segments run` phase by phase against one plain DuckDB query over the same raw data.

    uv run python benchmarks/run.py                 # 1M and 10M orders
    uv run python benchmarks/run.py --orders 200000 # a quick look
    uv run python benchmarks/run.py --core --first-only --orders 100000000  # the 100M point of the curve

For each size: generate a landing zone (customers = orders / 10), run the real pipeline
in-process, take each step's wall time from Dagster's events and split the dbt step into
transform (seeds and models) and checks (data and unit tests) by dbt's own node timings; then time
a single DuckDB query computing recency, frequency and monetary per customer straight from the
landing files. Ratios are against that query, measured in the same run on the same machine. The
data-mining models (CLV fit, backtest and predictions, clusters, explanation trees, associations and
recommendations) are timed node by node from the same log.

Then a next day arrives (new orders worth 0.3 % of history with their lines, some orders updated, one order
from two years ago) and runs incrementally; the same files are then rebuilt with --full-refresh, and the
published tables of both are compared. `--tiny` measures the fixed cost of a run on a 100-order landing zone,
in-process and from the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.demo import DemoSpec, generate

OUT = Path(__file__).resolve().parent / "out"

PLAIN_RFM = """
    with orders as (
        select customer_id, try_cast(order_ts::varchar as timestamptz) as ts,
               try_cast(total_amount::varchar as decimal(18, 2))
                 - coalesce(try_cast(discount_amount::varchar as decimal(18, 2)), 0) as net
        from {orders}
        where lower(status) = 'completed'
    )
    select customer_id,
           date_diff('day', max(ts)::date, (select max(ts)::date from orders)) as recency_days,
           count(*) as frequency, sum(net) as monetary
    from orders where ts is not null group by customer_id
"""


def dbt_test_share(log: Path) -> float:
    """Share of dbt's node time spent testing (data tests) rather than building (seeds, models), from the node
    lines dbt wrote into the run's log ("... OK created sql table model ... in 0.60s", "... PASS ... in 0.05s")."""
    build = test = 0.0
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        timed = re.search(r" of \d+ (OK|PASS|WARN|FAIL|ERROR)\b.* in (\d+(?:\.\d+)?)s\]", line)
        if timed:
            if timed.group(1) == "OK":
                build += float(timed.group(2))
            else:
                test += float(timed.group(2))
    return test / (build + test) if build + test else 0.0


# the data-mining models (issue 11) and the SQL they alone read: their build time is the cost of mining
MINING_MODELS = (
    "int_customer_purchase_days", "int_customer_purchase_summaries", "clv_model_fit", "customer_clv",
    "clv_backtest", "cluster_profiles", "customer_clusters", "segment_rules_explained", "int_order_lines_completed",
    "product_associations", "customer_recommendations",
)


def model_seconds(log: Path, names: tuple[str, ...]) -> dict[str, float]:
    """Build seconds of the named models, from dbt's node lines in the run's log ("... OK created python table
    model marts.cluster_profiles .... [OK in 3.21s]")."""
    seconds = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        built = re.search(r" of \d+ OK created .*? model \w+\.(\w+) .* in (\d+(?:\.\d+)?)s\]", line)
        if built and built.group(1) in names:
            seconds[built.group(1)] = float(built.group(2))
    return seconds


NEXT_DAY = """
    create temporary table history as select * from {orders};
    create temporary table latest as select max(try_cast(order_ts as timestamp)) as ts from history;
    -- new orders: 0.3 % of history, re-using real customers and baskets, dated the day after the latest order
    create temporary table picked as
    select * from history where hash(order_id || 'next') % 1000 < 3;
    copy (
        select 'N' || order_id as order_id, customer_id,
            strftime((select ts from latest) + to_minutes((hash(order_id) % 1440)::int), '%Y-%m-%dT%H:%M:%S')
                as order_ts,
            status, currency, total_amount, discount_amount, channel,
            strftime((select ts from latest) + interval 1 day, '%Y-%m-%dT%H:%M:%S') as updated_at
        from picked
        union all
        -- 0.03 % of history refunded since
        select order_id, customer_id, order_ts, 'refunded', currency, total_amount, discount_amount, channel,
            strftime((select ts from latest) + interval 1 day, '%Y-%m-%dT%H:%M:%S')
        from history where hash(order_id || 'refund') % 10000 < 3 and status = 'completed'
        union all
        -- a late order, two years old
        select 'LATE-1', min(customer_id), strftime((select ts from latest) - interval 730 day, '%Y-%m-%dT%H:%M:%S'),
            'completed', 'CNY', '199.00', '0', 'online',
            strftime((select ts from latest) - interval 730 day, '%Y-%m-%dT%H:%M:%S')
        from history
    ) to '{landing}/orders_next_day.csv' (header);
"""
NEXT_DAY_ITEMS = """
    copy (
        select 'N' || items.order_id as order_id, items.* exclude (order_id)
        from read_csv('{landing}/order_items*.csv', all_varchar = true) as items
        where items.order_id in (select order_id from picked)
    ) to '{landing}/order_items_next_day.csv' (header);
"""


def orders_relation(landing: Path, core: bool) -> str:
    if core:
        return f"read_parquet('{landing}/orders_*.parquet')"
    return f"read_csv('{landing}/orders_*.csv', all_varchar = true, union_by_name = true)"


def published_digest(publish_dir: Path) -> dict[str, list]:
    """Rows and an order-independent sum of row hashes per published table."""
    with duckdb.connect() as con:
        return {path.stem: list(con.execute(
            f"select count(*), sum(hash(t)::hugeint)::varchar from read_parquet('{path}') as t").fetchone())
            for path in sorted((publish_dir / "current").glob("*.parquet"))}


def timed_run(workdir: Path, name: str, full_refresh: bool = False) -> tuple[float, dict]:
    from orchestration.runner import execute_job, phase_seconds

    instance = dg.DagsterInstance.ephemeral()
    began = time.perf_counter()
    result = execute_job(workdir / f"{name}.log", instance, full_refresh=full_refresh)
    total = time.perf_counter() - began
    if not result.success:
        sys.exit(f"{name} failed; see {workdir / f'{name}.log'}")
    return total, phase_seconds(instance, result.run_id)


def fresh_workdir(workdir: Path, keep_landing: bool = False) -> Path:
    """An empty folder holding this size's landing zone, warehouse and publication; returns the landing zone.
    With keep_landing, the landing zone generated by an earlier run stays (at 100M it takes ~10 min to write)."""
    for path in (workdir.iterdir() if workdir.exists() else []):
        if keep_landing and path.name == "landing":
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    os.environ.update({
        "SEGMENTS_LANDING_DIR": str(workdir / "landing"),
        "SEGMENTS_WAREHOUSE": str(workdir / "warehouse.duckdb"),
        "SEGMENTS_PUBLISH_DIR": str(workdir / "publish"),
    })
    return workdir / "landing"


def tiny(workdir: Path) -> dict:
    """The fixed cost of a run: Dagster, dbt start-up, checks and publish on a 100-order landing zone.

    In-process (imports and definitions already loaded, as in the other sizes), then as a user sees it: the
    `segments run` command, once with nothing new (which leaves the current publication alone) and once with a
    new file of three orders (a whole run: load, dbt, checks, publish)."""
    landing = fresh_workdir(workdir)
    generate(landing, DemoSpec(customers=20, orders=100))
    first, _ = timed_run(workdir, "first")
    again, phases = timed_run(workdir, "again")
    command = [str(Path(sys.executable).with_name("segments")), "run", "--quiet"]
    began = time.perf_counter()
    subprocess.run(command, check=True)
    cli_no_change = time.perf_counter() - began
    with duckdb.connect() as con:
        con.execute(f"""copy (select 'T' || order_id as order_id, * exclude (order_id)
                     from read_csv('{landing}/orders*.csv', all_varchar = true) limit 3)
                     to '{landing}/orders_tiny_next.csv' (header)""")
    began = time.perf_counter()
    subprocess.run(command, check=True)
    cli_new_file = time.perf_counter() - began
    return {"orders": 100, "first_run_s": round(first, 1), "next_run_s": round(again, 1),
            **{f"next_{k}_s": v for k, v in phases.items()},
            "command_nothing_new_s": round(cli_no_change, 1), "command_new_file_s": round(cli_new_file, 1)}


def bench(orders: int, workdir: Path, core: bool = False, first_only: bool = False,
          keep_landing: bool = False) -> dict:
    reuse = keep_landing and (workdir / "landing").is_dir()
    landing = fresh_workdir(workdir, keep_landing=reuse)
    began = time.perf_counter()
    spec = DemoSpec(customers=max(orders // 10, 100), orders=orders)
    if core:
        spec = replace(spec, file_format="parquet", with_items=False, with_behaviour=False)
    if not reuse:
        generate(landing, spec)
    generated = time.perf_counter() - began

    total, phases = timed_run(workdir, "run")
    # the phases `segments run` reports; the dbt step also runs the dbt tests, which are checks
    dbt_tests = phases["transform"] * dbt_test_share(workdir / "run.log")
    phases["transform"] -= dbt_tests
    phases["checks"] += dbt_tests
    phases["run_total"] = total
    mining = model_seconds(workdir / "run.log", MINING_MODELS)

    with duckdb.connect() as con:
        began = time.perf_counter()
        con.execute(f"create table rfm as {PLAIN_RFM.format(orders=orders_relation(landing, core))}")
        plain = time.perf_counter() - began
        first = {
            "orders": orders,
            "generate_s": round(generated, 2),
            "plain_rfm_query_s": round(plain, 3),
            **{f"{k}_s": round(v, 2) for k, v in phases.items()},
            **{f"{k}_ratio": round(v / plain, 1) for k, v in phases.items()},
            "warehouse_gb": round(sum(p.stat().st_size for p in workdir.glob("warehouse.duckdb*")) / 1e9, 1),
            "mining_s": round(sum(mining.values()), 2),
            "mining_ratio": round(sum(mining.values()) / plain, 1),
            **{f"mining_{name}_s": value for name, value in mining.items()},
        }
        if first_only:
            return {**first, "peak_rss_mb_dbt": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}
        con.execute(NEXT_DAY.format(landing=landing, orders=orders_relation(landing, core)))
        if not core:
            con.execute(NEXT_DAY_ITEMS.format(landing=landing))
    incremental, incremental_phases = timed_run(workdir, "next_day")
    incremental_tables = published_digest(workdir / "publish")
    refresh, refresh_phases = timed_run(workdir, "full_refresh", full_refresh=True)
    return {
        **first,
        "next_day_s": round(incremental, 2),
        **{f"next_day_{k}_s": v for k, v in incremental_phases.items()},
        "full_refresh_s": round(refresh, 2),
        **{f"full_refresh_{k}_s": v for k, v in refresh_phases.items()},
        "full_refresh_ratio": round(refresh / plain, 1),
        "next_day_share_of_full_refresh": round(incremental / refresh, 3),
        "next_day_equals_full_refresh": incremental_tables == published_digest(workdir / "publish"),
        "peak_rss_mb_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "peak_rss_mb_dbt": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="*", default=[1_000_000, 10_000_000],
                        help="sizes to run (none with --tiny: the fixed cost alone)")
    parser.add_argument("--tiny", action="store_true", help="also measure the fixed cost of a run")
    parser.add_argument("--core", action="store_true",
                        help="customers and orders only, as Parquet (the scale curve up to 100M orders)")
    parser.add_argument("--first-only", action="store_true",
                        help="time the first build only (no next day, no full refresh): the 100M run")
    parser.add_argument("--keep-landing", action="store_true",
                        help="reuse the landing zone an earlier run of the same size generated (first build only)")
    parser.add_argument("--out", default="results.json", help="file name under benchmarks/out")
    args = parser.parse_args()
    rows = [tiny(OUT / "tiny")] if args.tiny else []
    rows += [{"core": args.core, **bench(n, OUT / f"{'core_' if args.core else ''}orders_{n}", args.core,
                                         args.first_only, args.keep_landing and args.first_only)}
             for n in args.orders]
    print(json.dumps(rows, indent=2))
    (OUT / args.out).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
