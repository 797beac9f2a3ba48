"""SEGMENTS_ENGINE=spark end to end: `segments run` lands the files, hands them to Spark, builds and tests the dbt
project on a local Spark session, checks, and publishes from the Parquet Spark wrote. BI sees the same publication
as from DuckDB: every published table equals the DuckDB run's of the same landing zone (the session's demo project).
Then `segments forget` erases a customer from Spark's files too."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.publish import PUBLISHED_TABLES
from orchestration.settings import DEFAULTS
from orchestration.spark import missing_requirement
from tests.conftest import run_cli
from tests.test_spark import comparable, same_column

pytestmark = [pytest.mark.spark,
              pytest.mark.skipif(missing_requirement() is not None, reason=missing_requirement() or "")]

# when the run happened, not what it found
WALL_CLOCK = {("load_audit", "loaded_at")}


@pytest.fixture(scope="module")
def spark_run(project, tmp_path_factory):
    duck_root, duck_result = project
    assert duck_result.returncode == 0, duck_result.stderr
    root = tmp_path_factory.mktemp("spark-run")
    shutil.copytree(duck_root / "data" / "landing", root / "landing")
    # every other setting blank (its embedded default), as the demo project ran: run_cli passes this process's
    # environment on, and a test here may have left a setting in it
    env = {**{key: "" for key in DEFAULTS}, "SEGMENTS_ENGINE": "spark", "SEGMENTS_LANDING_DIR": str(root / "landing"),
           "SEGMENTS_WAREHOUSE": str(root / "warehouse.duckdb"), "SEGMENTS_PUBLISH_DIR": str(root / "publish"),
           "SEGMENTS_SPARK_DIR": str(root / "spark")}
    result = run_cli("run", cwd=root, env=env)
    return {"root": root, "env": env, "result": result, "duck_bi": duck_root / "data" / "publish" / "bi.duckdb"}


def test_segments_run_on_spark_publishes_what_duckdb_publishes(spark_run):
    result, root = spark_run["result"], spark_run["root"]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "running on spark:" in result.stdout
    # dbt built on Spark: its tables are Parquet in Spark's warehouse, and the DuckDB file holds only what was landed
    assert (root / "spark" / "warehouse" / "marts.db" / "customer_segments").is_dir()
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        assert {schema for (schema,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()} \
            <= {"raw", "main"}
    with duckdb.connect(str(spark_run["duck_bi"]), read_only=True) as duck, \
            duckdb.connect(str(root / "publish" / "bi.duckdb"), read_only=True) as spark:
        for table in PUBLISHED_TABLES:
            described = duck.execute(f"describe {table}").fetchall()
            assert [row[:2] for row in spark.execute(f"describe {table}").fetchall()] == [row[:2] for row in described]
            kinds = {name: kind for name, kind, *_ in described if (table, name) not in WALL_CLOCK}
            columns = list(kinds)
            floats = [i for i, kind in enumerate(kinds.values()) if kind == "DOUBLE"]
            listed = ", ".join(f'"{column}"' for column in columns)
            duck_rows = comparable(duck.execute(f"select {listed} from {table}").fetchall(), floats)
            spark_rows = comparable(spark.execute(f"select {listed} from {table}").fetchall(), floats)
            assert len(duck_rows) == len(spark_rows), table
            for duck_row, spark_row in zip(duck_rows, spark_rows, strict=True):
                differing = [name for name, a, b in zip(columns, duck_row, spark_row, strict=True)
                             if not same_column(name, a, b)]
                assert not differing, f"{table}: {differing} differ, e.g. {duck_row} against {spark_row}"
    for table in PUBLISHED_TABLES:
        assert (root / "publish" / "current" / f"{table}.parquet").exists()


def test_forget_on_spark_erases_the_customer_from_sparks_files(spark_run):
    root, env = spark_run["root"], spark_run["env"]
    assert spark_run["result"].returncode == 0
    with duckdb.connect(str(root / "publish" / "bi.duckdb"), read_only=True) as con:
        customer = con.execute("select min(customer_id) from customer_segments where frequency > 1").fetchall()[0][0]
    forgotten = run_cli("forget", customer, cwd=root, env=env)
    assert forgotten.returncode == 0, forgotten.stderr
    holding = []
    with duckdb.connect() as con:
        for parquet in sorted((root / "spark").rglob("*.parquet")):
            rows = f"read_parquet('{parquet}')"
            columns = [row[0] for row in con.execute(f"describe select * from {rows}").fetchall()]
            if "customer_id" in columns and con.execute(
                    f"select count(*) from {rows} where customer_id = ?", [customer]).fetchall()[0][0]:
                holding.append(str(parquet.relative_to(root)))
    assert not holding, f"{customer} is still in {holding}"
    assert any(Path(root / "spark" / "warehouse").rglob("*.parquet"))


@pytest.mark.parametrize("command", [["preview", "--rules", "segments.yml"],
                                     ["backfill", "--from", "2026-01-01", "--to", "2026-01-02"]])
def test_what_does_not_run_on_spark_yet_is_refused_in_one_line(spark_run, command):
    root, env = spark_run["root"], spark_run["env"]
    shutil.copyfile(Path(__file__).resolve().parent.parent / "segments.yml", root / "segments.yml")
    refused = run_cli(*command, cwd=root, env=env)
    assert refused.returncode != 0
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert "does not run on SEGMENTS_ENGINE=spark yet" in refused.stderr
