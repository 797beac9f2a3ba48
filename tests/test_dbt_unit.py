"""dbt unit tests (given rows, expected rows) for every rule family, with the shipped segments.yml.

They run here rather than in `segments run`: a production run must follow an analyst's changed
thresholds, not fail on tests written for the shipped ones.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.dbt_project import dbt_vars
from orchestration.landing import ensure_raw_schema
from orchestration.settings import Settings
from tests.conftest import REPO


def dbt(*args: str, warehouse: Path, target: Path) -> subprocess.CompletedProcess:
    # the rules of segments.yml, but thresholds from dbt_project.yml, which unit tests may override
    shipped = dbt_vars(Settings.from_env())
    vars_json = json.dumps({key: shipped[key] for key in ("as_of_date", "reporting_currency", "segment_rules")})
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args, "--vars", vars_json, "--target-path", str(target)],
        cwd=REPO, env={**os.environ, "SEGMENTS_WAREHOUSE": str(warehouse)},
        capture_output=True, text=True, timeout=600)


def test_dbt_unit_tests_pass(workspace):
    warehouse = workspace / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con)
    # unit tests read the column types of their inputs: build every model empty first
    built = dbt("build", "--empty", "--exclude", "resource_type:unit_test", "resource_type:test",
                warehouse=warehouse, target=workspace / "target")
    assert built.returncode == 0, built.stdout[-3000:]
    tested = dbt("test", "--select", "test_type:unit", warehouse=warehouse, target=workspace / "target")
    assert tested.returncode == 0, tested.stdout[-5000:]
    results = [result for result in json.loads((workspace / "target" / "run_results.json").read_text())["results"]
               if result["unique_id"].startswith("unit_test.")]  # not the on-run-start hook
    names = {r["unique_id"].split(".")[-1] for r in results if r["status"] == "pass"}
    assert len(results) == len(names) >= 14
    assert {"tags_open_persist_close_and_expire", "b2b_and_b2c_customers_follow_their_own_rules",
            "small_fine_segments_fold_into_their_parent", "identities_chain_through_email_and_phone",
            "dimensions_from_attributes_surveys_and_referrals"} <= names
