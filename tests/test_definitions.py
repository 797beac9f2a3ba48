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


def test_old_dbt_target_folders_are_pruned_but_recent_ones_stay(tmp_path):
    import os
    import time

    from orchestration.defs.transform.assets import prune_targets

    day = 24 * 3600
    for age_days, name in [(9, "dbt_models-a"), (8, "dbt_models-b"), (7, "dbt_models-c"), (3, "dbt_models-d"),
                           (2, "dbt_models-e"), (0.1, "dbt_models-f"), (0.05, "dbt_models-g"), (9, "docs-cache")]:
        folder = tmp_path / name
        folder.mkdir()
        stamp = time.time() - age_days * day
        os.utime(folder, (stamp, stamp))
    prune_targets(tmp_path, "dbt_models-", keep=2)
    # the two newest stay, and so does everything from the last day; older folders go; other folders are not touched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dbt_models-f", "dbt_models-g", "docs-cache"]
    for age_days, name in [(3, "dbt_models-h"), (2, "dbt_models-i")]:
        (tmp_path / name).mkdir()
        stamp = time.time() - age_days * day
        os.utime(tmp_path / name, (stamp, stamp))
    prune_targets(tmp_path, "dbt_models-", keep=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dbt_models-f", "dbt_models-g", "dbt_models-h", "dbt_models-i", "docs-cache"]


def test_history_by_day_is_a_daily_partitioned_asset_outside_the_daily_job():
    definitions = defs()
    backfill = definitions.resolve_job_def("segments_backfill")
    assert isinstance(backfill.partitions_def, dg.DailyPartitionsDefinition)
    key = dg.AssetKey(["history", "segment_days"])
    assert definitions.resolve_asset_graph().get(key).partitions_def == backfill.partitions_def
    daily = definitions.resolve_job_def("segments_daily")
    assert key not in daily.asset_layer.selected_asset_keys
    assert dg.AssetKey(["marts", "segment_history"]) in daily.asset_layer.selected_asset_keys
