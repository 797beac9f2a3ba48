import os
from datetime import date
from pathlib import Path

import pytest

from orchestration.settings import DEFAULTS, Settings, SettingsError


def test_defaults_need_no_environment(monkeypatch, tmp_path):
    for key in DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env()
    assert settings.landing_dir == tmp_path / "data" / "landing"
    assert settings.warehouse.parent == tmp_path / "data"
    assert settings.publish_dir.parent == tmp_path / "data"
    assert settings.max_reject_rate == 0.05
    assert settings.reporting_currency == "CNY"
    assert settings.as_of is None
    assert settings.engine == "duckdb"


def test_values_from_environment_and_dotenv(monkeypatch, tmp_path):
    for key in DEFAULTS:  # set, then removed: monkeypatch then also removes what the .env file puts in os.environ
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text("SEGMENTS_AS_OF=2026-01-31\nSEGMENTS_REPORTING_CURRENCY=usd\nSEGMENTS_ENGINE=DuckDB\n")
    monkeypatch.setenv("SEGMENTS_MAX_REJECT_RATE", "0.2")
    settings = Settings.from_env()
    assert settings.as_of == date(2026, 1, 31)
    assert settings.reporting_currency == "USD"
    assert settings.max_reject_rate == 0.2
    assert settings.engine == "duckdb"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("SEGMENTS_AS_OF", "31/01/2026", "SEGMENTS_AS_OF must be a date YYYY-MM-DD"),
        ("SEGMENTS_MAX_REJECT_RATE", "five", "SEGMENTS_MAX_REJECT_RATE must be a number"),
        ("SEGMENTS_MAX_REJECT_RATE", "1.5", "between 0 and 1"),
        ("SEGMENTS_REPORTING_CURRENCY", "yuan", "ISO-4217"),
        ("SEGMENTS_KEEP_PUBLICATIONS", "0", "SEGMENTS_KEEP_PUBLICATIONS must be a whole number"),
        ("SEGMENTS_ENGINE", "postgres", "SEGMENTS_ENGINE must be duckdb or spark, got 'postgres'"),
    ],
)
def test_bad_values_are_named_in_one_line(monkeypatch, tmp_path, key, value, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=message) as error:
        Settings.from_env()
    assert "\n" not in str(error.value)


def test_spark_without_java_is_refused_in_one_line(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMENTS_ENGINE", "spark")
    monkeypatch.setenv("JAVA_HOME", "")
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    with pytest.raises(SettingsError, match="SEGMENTS_ENGINE=spark cannot start: .*(Java|pyspark)") as error:
        Settings.from_env()
    assert "\n" not in str(error.value)


def test_spark_refuses_a_key_it_cannot_quote(monkeypatch, tmp_path):
    from orchestration.spark import missing_requirement

    if missing_requirement():
        pytest.skip(missing_requirement())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEGMENTS_ENGINE", "spark")
    monkeypatch.setenv("SEGMENTS_PSEUDONYM_KEY", "it's-${secret}")
    with pytest.raises(SettingsError, match="SEGMENTS_PSEUDONYM_KEY must hold none of") as error:
        Settings.from_env()
    assert "\n" not in str(error.value)
    monkeypatch.setenv("SEGMENTS_PSEUDONYM_KEY", "a-plain-secret")
    assert Settings.from_env().dbt_target == "spark_local"
    monkeypatch.setenv("SEGMENTS_SPARK_HOST", "spark.example.internal")
    assert Settings.from_env().dbt_target == "spark_thrift"


def test_the_engine_picks_the_dbt_target_and_exports_it(monkeypatch, tmp_path):
    """SEGMENTS_ENGINE owns the dbt target: a shell's stray SEGMENTS_DBT_TARGET cannot send dbt elsewhere."""
    monkeypatch.chdir(tmp_path)
    for key in DEFAULTS:  # blank is the default; set here so that what export_to_environ writes is undone
        monkeypatch.setenv(key, "")
    monkeypatch.setenv("SEGMENTS_DBT_TARGET", "spark_local")
    monkeypatch.setenv("SEGMENTS_WAREHOUSE", str(tmp_path / "w" / "warehouse.duckdb"))
    settings = Settings.from_env()
    assert (settings.engine, settings.dbt_target) == ("duckdb", "local")
    assert settings.spark_dir == tmp_path / "w" / "spark"
    settings.export_to_environ()
    assert os.environ["SEGMENTS_DBT_TARGET"] == "local"


LIMITS = {"SEGMENTS_MEMORY_LIMIT": "1GB", "SEGMENTS_THREADS": "1", "SEGMENTS_MAX_TEMP_SIZE": "3GB"}
SHOW_LIMITS = ("select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads, "
               "current_setting('temp_directory') as temp_directory, "
               "current_setting('max_temp_directory_size') as max_temp_size")


def _expected_limits(tmp_path: Path) -> list:
    import duckdb

    spill = tmp_path / "spill"
    with duckdb.connect(config={"memory_limit": "1GB", "threads": 1, "temp_directory": str(spill),
                                "max_temp_directory_size": "3GB"}) as con:
        return list(con.execute(SHOW_LIMITS).fetchone())


def test_loader_checks_and_publish_connections_get_the_limits(monkeypatch, tmp_path):
    from orchestration.db import connect

    for key, value in {**LIMITS, "SEGMENTS_TEMP_DIR": str(tmp_path / "spill")}.items():
        monkeypatch.setenv(key, value)
    with connect(tmp_path / "w.duckdb") as con:
        assert list(con.execute(SHOW_LIMITS).fetchone()) == _expected_limits(tmp_path)


def test_dbt_gets_the_same_limits_once_per_database(monkeypatch, tmp_path):
    """The profile sets them as database config: a per-thread SET of temp_directory fails once DuckDB spilled."""
    import json
    import subprocess
    import sys

    from orchestration.dbt_project import prepare_args
    from orchestration.settings import PROJECT_ROOT

    monkeypatch.chdir(tmp_path)
    for key in DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    for key, value in {**LIMITS, "SEGMENTS_TEMP_DIR": str(tmp_path / "spill"),
                       "SEGMENTS_WAREHOUSE": str(tmp_path / "w.duckdb")}.items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    settings.export_to_environ()
    variables = prepare_args(settings)[-1]
    dbt = Path(sys.executable).with_name("dbt")
    shown = subprocess.run(
        [str(dbt), "show", "--inline", SHOW_LIMITS, "--output", "json", "--log-format", "text", "--quiet",
         "--vars", variables, "--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT),
         "--target-path", str(tmp_path / "target")],
        capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    row = json.loads(shown.stdout[shown.stdout.index("{"):])["show"][0]
    assert [row["memory_limit"], str(row["threads"]), row["temp_directory"], row["max_temp_size"]] == [
        str(value) for value in _expected_limits(tmp_path)]


def test_every_duckdb_connection_of_the_pipeline_goes_through_the_limits():
    """Publish, report, checks and erasure too: a bare duckdb.connect() may take 80 % of RAM (at 100M orders the
    run's own process reached 9.6 GB under a 4 GB limit while such connections were uncapped)."""
    import ast

    from orchestration.settings import PROJECT_ROOT

    bare = []
    for path in sorted((PROJECT_ROOT / "orchestration").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "duckdb"):
                bare.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert [place.split(":")[0] for place in bare] == ["orchestration/db.py"], bare


def test_the_bi_file_is_written_under_the_limits(monkeypatch, tmp_path):
    from orchestration.publish import build_bi_file

    for key, value in {**LIMITS, "SEGMENTS_TEMP_DIR": str(tmp_path / "spill")}.items():
        monkeypatch.setenv(key, value)
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"copy (select range as id from range(10)) to '{tmp_path / 't.parquet'}' (format parquet)")
    expected, seen = _expected_limits(tmp_path), []
    real_connect = duckdb.connect

    def watching(*args, **kwargs):
        con = real_connect(*args, **kwargs)
        seen.append(list(con.execute(SHOW_LIMITS).fetchone()))
        return con

    monkeypatch.setattr(duckdb, "connect", watching)
    build_bi_file(tmp_path, ("t",), tmp_path / "bi.duckdb")
    assert seen == [expected]
