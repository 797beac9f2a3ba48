"""The same dbt models on Spark and on DuckDB, from the same landing zone, compared row for row.

Marked `spark`: skipped where Java or pyspark is missing (./scripts/test installs both). The landing zone is the
demo's plus the dirty one of tests/dirty.py, loaded once by the loader; each engine then builds the models from
it. Spark's tables are read back from their Parquet files in its warehouse folder.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.spark import export_landing, missing_requirement
from tests import dirty
from tests.conftest import write_csv

pytestmark = [pytest.mark.spark,
              pytest.mark.skipif(missing_requirement() is not None, reason=missing_requirement() or "")]

REPO = Path(__file__).resolve().parent.parent

# The models that run on both engines so far, by layer (issue 13 ports the rest).
PORTED = {
    "staging": ["stg_landing__customers", "stg_landing__orders", "stg_landing__order_items",
                "stg_landing__products", "stg_landing__marketing_spend", "stg_landing__web_events",
                "stg_landing__feedback", "stg_landing__segment_overrides"],
    "intermediate": ["int_customers_triaged", "int_orders_triaged", "int_order_items_triaged", "int_products_triaged",
                     "int_marketing_spend_triaged", "int_web_events_triaged", "int_feedback_triaged",
                     "int_segment_overrides_triaged", "int_customers_standardised", "int_customers_merged",
                     "int_orders_converted", "int_as_of_date", "int_snapshot_dates"],
    "main": ["quarantine"],
    "marts": ["load_audit", "data_completeness", "customer_identity_map"],
}


def dbt(args: list[str], env: dict[str, str], target: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("segments-dbt")
    return subprocess.run([str(script), *args], cwd=REPO, env={**env, "SEGMENTS_DBT_TARGET": target},
                          capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> dict:
    """Both engines built from one landing zone: the settings, and a DuckDB connection that reads both."""
    from orchestration.demo import DemoSpec, generate
    from orchestration.landing import ENTITY_COLUMNS, ensure_raw_schema, load_entity

    root = tmp_path_factory.mktemp("engines")
    landing = root / "landing"
    generate(landing, DemoSpec(customers=300, orders=2500))
    dirty.build(root / "dirty")
    for path in (root / "dirty").iterdir():  # beside the demo's files, under names of their own
        path.rename(landing / f"{path.stem.removesuffix('_dirty')}_dirty{path.suffix}")
    customer = next(iter(csv.DictReader((landing / "customers.csv").open(encoding="utf-8"))))["customer_id"]
    write_csv(landing / "segment_overrides.csv",
              ["customer_id", "dimension", "segment", "reason", "requested_by", "valid_from", "expires_at"],
              [[customer, "value_tier", "high", "appeal upheld", "agent 7", "2026-01-01", ""],
               [customer, "", "high", "no dimension", "agent 7", "2026-01-01", ""],
               [customer, "value_tier", "mid", "bad date", "agent 7", "2026/01/01", ""],
               [customer, "value_tier", "mid", "ends first", "agent 7", "2026-03-01", "2026-02-01"]])
    env = {**os.environ, "SEGMENTS_LANDING_DIR": str(landing), "SEGMENTS_WAREHOUSE": str(root / "warehouse.duckdb"),
           "SEGMENTS_PUBLISH_DIR": str(root / "publish"), "SEGMENTS_SPARK_DIR": str(root / "spark"),
           "SEGMENTS_PSEUDONYM_KEY": "engine-comparison-key", "SEGMENTS_AS_OF": dirty.AS_OF}
    with duckdb.connect(env["SEGMENTS_WAREHOUSE"]) as con:
        con.execute("set timezone = 'UTC'")
        ensure_raw_schema(con)
        for entity in ENTITY_COLUMNS:
            load_entity(con, landing, entity, env["SEGMENTS_PSEUDONYM_KEY"])
        export_landing(con, root / "spark")
    variables = subprocess.run(
        [sys.executable, "-c", "import json; from orchestration.dbt_project import dbt_vars; "
         "from orchestration.settings import Settings; print(json.dumps(dbt_vars(Settings.from_env())))"],
        cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    selection = " ".join(model for models in PORTED.values() for model in models)
    for target in ("local", "spark_local"):
        target_path = str(root / f"target-{target}")
        for command in (["seed"], ["run", "--select", selection]):
            built = dbt([*command, "--vars", variables, "--target-path", target_path], env, target)
            assert built.returncode == 0, f"dbt {command[0]} on {target} failed:\n{built.stdout[-6000:]}"
    return {"root": root, "env": env}


def spark_table(root: Path, schema: str, table: str) -> str:
    return f"read_parquet('{root}/spark/warehouse/{schema}.db/{table}/*.parquet')"


@pytest.mark.parametrize("schema,table", [(schema, model) for schema, models in PORTED.items() for model in models])
def test_spark_builds_the_same_rows_as_duckdb(engines, schema, table):
    root = engines["root"]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        con.execute("set timezone = 'UTC'")
        columns = [name for (name,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position", [schema, table]).fetchall()]
        spark_columns = [row[0] for row in con.execute(f"describe select * from {spark_table(root, schema, table)}")
                         .fetchall()]
        assert spark_columns == columns
        listed = ", ".join(f'"{column}"' for column in columns)
        duck = f"select {listed} from {schema}.{table}"
        spark = f"select {listed} from {spark_table(root, schema, table)}"
        rows = con.execute(f"select count(*) from {schema}.{table}").fetchall()[0][0]
        assert rows > 0, "compare a table that has rows"
        only_duck = con.execute(f"{duck} except all {spark} limit 5").fetchall()
        only_spark = con.execute(f"{spark} except all {duck} limit 5").fetchall()
    assert (only_duck, only_spark) == ([], []), f"{table}: rows only on DuckDB {only_duck}, only on Spark {only_spark}"
