"""The Spark engine: the landed rows handed to Spark, and dbt run on a local Spark session.

The loader stays on DuckDB on both engines (its CSV reader keeps every malformed line with a reason). On Spark it
hands each raw table over as Parquet under SEGMENTS_SPARK_DIR/raw/<table>/, and the dbt project reads them as
external tables (macros/landing.sql, attach_landing).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.db import connect, ident, literal
from orchestration.settings import PROJECT_ROOT, Settings


def missing_requirement() -> str | None:
    """What keeps a Spark session from starting here, in one line; None when nothing does."""
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "pyspark and dbt-spark are not installed (uv sync --extra spark)"
    java_home = os.environ.get("JAVA_HOME", "")
    if not (java_home and Path(java_home, "bin", "java").exists()) and shutil.which("java") is None:
        return "no Java runtime (apt-get install default-jre-headless, or set JAVA_HOME)"
    return None


def export_landing(con: duckdb.DuckDBPyConnection, spark_dir: Path) -> dict[str, int]:
    """Write every raw table as spark_dir/raw/<table>/part-0.parquet; rows per table.

    Each table is written beside its folder and swapped in, so a reader never sees half a table."""
    raw_dir = spark_dir / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    tables = [name for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' order by table_name").fetchall()]
    for table in tables:
        fresh = raw_dir / f".{table}.new"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
        rows[table] = con.execute(
            f"copy raw.{ident(table)} to {literal(str(fresh / 'part-0.parquet'))} (format parquet)").fetchall()[0][0]
        old = raw_dir / f".{table}.old"
        shutil.rmtree(old, ignore_errors=True)
        if (raw_dir / table).exists():
            (raw_dir / table).rename(old)
        fresh.rename(raw_dir / table)
        shutil.rmtree(old, ignore_errors=True)
    return rows


# Spark pastes SEGMENTS_PSEUDONYM_KEY into a quoted literal (macros/privacy.sql): these would end or escape it
UNSAFE_KEY_CHARACTERS = ("'", "\\", "$", "{", "}")


def load_raw(env: dict[str, str]) -> None:
    """Load the landing zone of `env` (SEGMENTS_LANDING_DIR) into its warehouse with the loader."""
    from orchestration.landing import ENTITY_COLUMNS, ensure_raw_schema, load_entity

    settings = Settings.from_mapping(env)
    with connect(settings.warehouse, settings) as con:
        con.execute("set timezone = 'UTC'")
        ensure_raw_schema(con)
        for entity in ENTITY_COLUMNS:
            load_entity(con, settings.landing_dir, entity, settings.pseudonym_key, settings.temp_dir)


def hand_over(env: dict[str, str]) -> None:
    """The warehouse's raw tables handed to Spark under SEGMENTS_SPARK_DIR (export_landing)."""
    settings = Settings.from_mapping(env)
    with connect(settings.warehouse, settings, read_only=True) as con:
        export_landing(con, settings.spark_dir)


def build_models(env: dict[str, str], target: str, target_path: Path, select: list[str] | None = None) -> None:
    """Every seed and model (no tests), or those `select` names, on one target (profiles.yml) in one dbt invocation
    (on Spark, one JVM start), with the dbt vars the settings of `env` give; a failure raises with the end of dbt's
    output."""
    from orchestration import rules
    from orchestration.dbt_project import dbt_vars

    settings = Settings.from_mapping(env)
    variables = json.dumps(dbt_vars(settings, rules.load(settings.rules_file)))
    script = Path(sys.executable).with_name("segments-dbt")
    selection = ["--select", *select] if select else []
    built = subprocess.run([str(script), "build", *selection, "--exclude-resource-type", "test",
                            "--exclude-resource-type", "unit_test", "--vars", variables, "--target-path",
                            str(target_path)],
                           cwd=PROJECT_ROOT, env={**env, "SEGMENTS_DBT_TARGET": target},
                           capture_output=True, text=True, timeout=3600)
    if built.returncode != 0:
        raise RuntimeError(f"dbt build on {target} failed:\n{built.stdout[-6000:]}")


def dbt_main(argv: list[str]) -> int:
    """dbt in this process, with dbt Python models run on the local Spark session (dbt-spark runs them only on
    Databricks clusters)."""
    key = os.environ.get("SEGMENTS_PSEUDONYM_KEY", "")
    if not key or set(key) & set(UNSAFE_KEY_CHARACTERS):
        print("segments-dbt: on Spark, SEGMENTS_PSEUDONYM_KEY must be set and hold none of "
              f"{' '.join(UNSAFE_KEY_CHARACTERS)} (Spark substitutes it into a SQL string literal)", file=sys.stderr)
        return 2
    from dbt.adapters.spark.impl import SparkAdapter
    from dbt.cli.main import cli

    helpers = SparkAdapter.python_submission_helpers.fget

    SparkAdapter.python_submission_helpers = property(
        lambda self: {**helpers(self), "session": SessionPythonJobHelper})
    SparkAdapter.default_python_submission_method = property(
        lambda self: "session" if self.config.credentials.method == "session" else "all_purpose_cluster")
    try:
        cli.main(argv, prog_name="dbt", standalone_mode=True)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


class SessionPythonJobHelper:
    """Runs a dbt Python model's compiled code (the model, then dbt-spark's code that saves its result) on the
    Spark session dbt's SQL runs on."""

    def __init__(self, parsed_model: dict, credentials) -> None:
        self.name = parsed_model.get("alias") or parsed_model["name"]

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        exec(compile(compiled_code, f"<dbt model {self.name}>", "exec"), {"spark": spark, "__name__": self.name})


if __name__ == "__main__":
    sys.exit(dbt_main(sys.argv[1:]))
