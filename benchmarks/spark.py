"""Spark (a local[2] session) against DuckDB on every dbt model of the project.

`uv run --extra spark python benchmarks/spark.py [--orders N]` generates a landing zone (customers = orders / 10),
loads it once, hands the raw tables to Spark, then times `dbt seed` + `dbt run` of the same models on each engine,
and one plain DuckDB query (recency, frequency and monetary per customer from the same CSV files) as the yardstick.
Results land in benchmarks/out/spark.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.demo import DemoSpec, generate
from orchestration.spark import build_models, hand_over, load_raw, missing_requirement

REPO = Path(__file__).resolve().parent.parent
KEY = "benchmark-key"


def plain_query_seconds(landing: Path) -> float:
    started = time.perf_counter()
    duckdb.connect().execute(
        f"select customer_id, max(try_cast(order_ts as timestamp)) as last_order, count(*) as orders, "
        f"sum(try_cast(total_amount as double)) as monetary from read_csv('{landing}/orders_*.csv', all_varchar=true) "
        f"where status = 'completed' group by customer_id").fetchall()
    return time.perf_counter() - started


def build_seconds(env: dict[str, str], target: str, workdir: Path) -> float:
    started = time.perf_counter()
    build_models(env, target, workdir / f"target-{target}")
    return time.perf_counter() - started


def bench(orders: int, workdir: Path) -> dict:
    landing = workdir / "landing"
    generate(landing, DemoSpec(customers=orders // 10, orders=orders))
    env = {**os.environ, "SEGMENTS_LANDING_DIR": str(landing), "SEGMENTS_WAREHOUSE": str(workdir / "warehouse.duckdb"),
           "SEGMENTS_PUBLISH_DIR": str(workdir / "publish"), "SEGMENTS_SPARK_DIR": str(workdir / "spark"),
           "SEGMENTS_PSEUDONYM_KEY": KEY}
    started = time.perf_counter()
    load_raw(env)
    loaded = time.perf_counter()
    hand_over(env)
    handed_over = time.perf_counter()
    plain = plain_query_seconds(landing)
    duck = build_seconds(env, "local", workdir)
    spark = build_seconds(env, "spark_local", workdir)
    models = sum(1 for path in (REPO / "models").rglob("*") if path.suffix in (".sql", ".py"))
    return {"orders": orders, "models": models,
            "plain_query_s": round(plain, 2), "load_s": round(loaded - started, 1),
            "parquet_handover_s": round(handed_over - loaded, 1),
            "duckdb_dbt_s": round(duck, 1), "spark_dbt_s": round(spark, 1),
            "duckdb_ratio": round(duck / plain, 1), "spark_ratio": round(spark / plain, 1),
            "spark_over_duckdb": round(spark / duck, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="*", default=[1_000_000])
    args = parser.parse_args()
    if reason := missing_requirement():
        raise SystemExit(f"benchmarks/spark.py: {reason}")
    results = []
    for orders in args.orders:
        with tempfile.TemporaryDirectory(prefix="spark-bench-") as workdir:
            results.append(bench(orders, Path(workdir)))
            print(json.dumps(results[-1]), flush=True)
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "spark.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
