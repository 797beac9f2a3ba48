"""Every asset, check, job and schedule loads, the way `dagster dev` loads them."""

import dagster as dg

from orchestration.definitions import defs
from orchestration.publish import PUBLISHED_TABLES


def test_definitions_load_with_every_layer_and_the_daily_schedule():
    loaded = defs()
    graph = loaded.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for table in ("customers", "orders", "order_items", "products", "load_files", "malformed_rows"):
        assert f"raw/{table}" in keys
    assert {f"marts/{t}" for t in PUBLISHED_TABLES} <= keys
    assert {"staging/stg_landing__orders", "intermediate/int_customers_segmented",
            "reference/fx_rates", "publish/bi_publication"} <= keys

    checks = {f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys}
    assert "marts/load_audit:reject_rate_within_limit" in checks
    assert "marts/load_audit:rows_reconcile" in checks
    assert "marts/customer_segments:unique_customer_segments_customer_id" in checks

    schedule = loaded.resolve_schedule_def("segments_daily_schedule")
    assert schedule.cron_schedule == "0 5 * * *"
    assert schedule.job_name == "segments_daily"


def test_every_asset_has_a_description_and_a_layer_group():
    graph = defs().resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description, f"{key.to_user_string()} has no description"
        assert node.group_name == key.path[0] or (key.path[0] == "raw" and node.group_name == "landing"), key


def test_job_runs_every_step_in_one_process():
    job = defs().resolve_job_def("segments_daily")
    assert job.executor_def is dg.in_process_executor
