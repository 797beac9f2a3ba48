"""Segment dynamics over several as-of dates, end to end: a backfill over past days gives the history that a run on
each of those days gives, evaluating a day again changes nothing, and an appeal (segment_overrides) holds until its
expiry. The landing zone is built so that customers move on these very days: one falls from active to silent (held
by the grace period), one stops being new, one buys for the first time."""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.settings import DEFAULTS
from tests.conftest import query, run_cli, write_csv

D1, D2 = "2025-07-01", "2025-07-02"

OVERRIDES = [
    # customer, dimension, segment, reason, requested_by, valid_from, expires_at
    ["H05", "business_segment", "high_value", "appeal accepted", "agent 7", "2025-06-01", D2],
    ["H06", "value_tier", "high", "key account contract", "agent 7", "2025-06-01", ""],
    ["H99", "value_tier", "high", "typo in the id", "agent 7", "2025-06-01", ""],
    ["H07", "colour", "red", "no such dimension", "agent 7", "2025-06-01", ""],
    ["H08", "value_tier", "platinum", "no such tier", "agent 7", "2025-06-01", ""],
    ["H09", "lifecycle_stage", "active", "from next month", "agent 7", "2025-08-01", ""],
    ["H10", "value_tier", "low", "expires before it starts", "agent 7", "2025-08-01", "2025-07-01"],
]


def land(landing) -> None:
    customers = [f"H{i:02d}" for i in range(30)]
    write_csv(landing / "customers.csv", ["customer_id", "signup_ts"],
              [[c, "2024-06-01T00:00:00"] for c in customers])
    orders = []
    for n, customer in enumerate(customers[4:], start=4):
        # a spread of buyers, every one last buying long before the days
        for k in range(1 + n % 4):
            orders.append([customer, f"2024-{7 + k:02d}-{1 + n % 27:02d}T10:00:00", 20 + 15 * n + k])
    orders += [
        ["H00", "2024-08-01T10:00:00", 300],
        ["H00", "2025-01-02T10:00:00", 80],   # 180 days before D1: active on D1, silent on D2
        ["H02", "2025-04-03T10:00:00", 45],   # new for 90 days: new on D1, active on D2
        ["H03", "2025-07-02T10:00:00", 500],  # a prospect who buys on D2
    ]
    write_csv(landing / "orders.csv",
              ["order_id", "customer_id", "order_ts", "status", "currency", "total_amount", "channel"],
              [[f"O{n:04d}", c, ts, "completed", "CNY", f"{amount}.00", "online"]
               for n, (c, ts, amount) in enumerate(orders)])
    write_csv(landing / "segment_overrides.csv",
              ["customer_id", "dimension", "segment", "reason", "requested_by", "valid_from", "expires_at"], OVERRIDES)


def env_for(root, as_of: str | None = None) -> dict[str, str]:
    return {**{key: "" for key in DEFAULTS}, "SEGMENTS_LANDING_DIR": str(root.parent / "landing"),
            "SEGMENTS_WAREHOUSE": str(root / "warehouse.duckdb"), "SEGMENTS_PUBLISH_DIR": str(root / "publish"),
            "SEGMENTS_MAX_REJECT_RATE": "0.2",  # one override row of seven is quarantined on purpose
            **({"SEGMENTS_AS_OF": as_of} if as_of else {})}


def published(root, sql: str) -> list[tuple]:
    return query(root / "publish" / "bi.duckdb", sql)


SEGMENTS = ("select customer_id, lifecycle_stage, lifecycle_stage_effective, grace_reason, value_tier, "
            "value_tier_effective, business_segment, override_reason from customer_segments order by customer_id")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("history")
    land(base / "landing")
    daily, backfilled = base / "daily", base / "backfilled"
    day_by_day = {}
    for day in (D1, D2):
        result = run_cli("run", "--quiet", cwd=base, env=env_for(daily, day))
        assert result.returncode == 0, result.stderr
        day_by_day[day] = {
            "segments": {row[0]: row[1:] for row in published(daily, SEGMENTS)},
            "overrides": {(c, d): (s, status, reason) for c, d, s, status, reason in published(
                daily, "select customer_id, dimension, segment, status, reason from override_log")},
            "holdout": query(daily / "warehouse.duckdb",
                             "select audience, customer_id, in_holdout from marts.audience_members")}
    result = run_cli("backfill", "--from", D1, "--to", D2, cwd=base, env=env_for(backfilled))
    assert result.returncode == 0, result.stderr
    return base, daily, backfilled, result, day_by_day


def test_a_backfill_gives_the_history_of_a_run_on_each_day(runs):
    _, daily, backfilled, result, _ = runs
    assert f"backfilled 2 day(s) {D1}..{D2}" in result.stdout
    history = "select * from segment_history order by all"
    assert published(backfilled, history) == published(daily, history)
    assert published(backfilled, "select distinct as_of_date from customer_segments") == [(date.fromisoformat(D2),)]
    days = "select * from intermediate.int_segment_days order by all"
    assert query(backfilled / "warehouse.duckdb", days) == query(daily / "warehouse.duckdb", days)


def test_evaluating_a_day_again_changes_nothing(runs, monkeypatch):
    from orchestration.history import evaluate_day
    from orchestration.settings import Settings

    _, _, backfilled, _, _ = runs
    for key, value in env_for(backfilled, D2).items():
        monkeypatch.setenv(key, value)
    days = "select snapshot_date, * exclude (snapshot_date) from intermediate.int_segment_days order by all"
    before = query(backfilled / "warehouse.duckdb", days)
    evaluate_day(Settings.from_env(), date.fromisoformat(D1))
    assert query(backfilled / "warehouse.duckdb", days) == before
    assert {row[0] for row in before} == {date.fromisoformat(D1), date.fromisoformat(D2)}


def test_the_history_holds_the_moves_of_each_day(runs):
    _, daily, _, _, _ = runs
    d1, d2 = date.fromisoformat(D1), date.fromisoformat(D2)
    rows = published(daily, "select customer_id, segment, valid_from, valid_to from segment_history "
                            "where dimension = 'lifecycle_stage' and customer_id in ('H00', 'H02', 'H03') "
                            "order by customer_id, valid_from")
    last_two = {customer: [r[1:] for r in rows if r[0] == customer][-2:] for customer in ("H00", "H02", "H03")}
    assert last_two["H00"][0][0] == "active" and last_two["H00"][0][2] == d1
    assert last_two["H00"][1] == ("silent", d2, None)
    assert last_two["H02"][0][0] == "new" and last_two["H02"][1] == ("active", d2, None)
    assert last_two["H03"][0][0] == "prospect" and last_two["H03"][1] == ("new", d2, None)


def test_a_fall_is_held_by_the_grace_period_and_a_rise_takes_effect_at_once(runs):
    *_, day_by_day = runs
    first, second = day_by_day[D1]["segments"], day_by_day[D2]["segments"]
    assert first["H00"][:2] == ("active", "active")
    stage, effective, grace_reason = second["H00"][:3]
    assert (stage, effective) == ("silent", "active")
    assert grace_reason.startswith("lifecycle_stage held at active until 2025-08-01 (grace 30 days)")
    assert second["H03"][:3] == ("new", "new", None)  # prospect -> new is a rise


def test_an_override_holds_until_it_expires_and_bad_ones_are_rejected_with_the_reason(runs):
    *_, day_by_day = runs
    first, second = day_by_day[D1], day_by_day[D2]
    # applied on D1 (last of all, over the rules), expired on D2 (expires_at is the first day it no longer holds)
    assert first["overrides"][("H05", "business_segment")] == ("high_value", "applied", "applied: appeal accepted")
    assert first["segments"]["H05"][5] == "high_value"
    assert first["segments"]["H05"][6] == ("business_segment set to high_value by an override until 2025-07-01: "
                                           "appeal accepted")
    assert second["overrides"][("H05", "business_segment")] == ("high_value", "expired", "expired on 2025-07-02")
    assert second["segments"]["H05"][5] != "high_value" and second["segments"]["H05"][6] is None
    # an override of value_tier sets the effective tier; the rules' tier stays beside it
    for day in (first, second):
        assert day["overrides"][("H06", "value_tier")][1] == "applied"
        assert day["segments"]["H06"][3:5] == ("low", "high")
    assert second["overrides"][("H99", "value_tier")][1:] == ("rejected", "unknown customer")
    assert second["overrides"][("H07", "colour")][1:] == ("rejected", "unknown dimension: colour")
    assert second["overrides"][("H08", "value_tier")][1:] == ("rejected", "unknown segment of value_tier: platinum")
    assert second["overrides"][("H09", "lifecycle_stage")][1:] == ("pending", "starts on 2025-08-01")
    assert ("H10", "value_tier") not in second["overrides"]


def test_an_override_row_that_cannot_be_one_is_quarantined_with_the_reason(runs):
    _, daily, *_ = runs
    rows = query(daily / "warehouse.duckdb", "select reason, original_record from main.quarantine "
                                            "where entity = 'segment_overrides'")
    assert len(rows) == 1 and rows[0][0] == "expires_before_valid_from" and '"H10"' in rows[0][1]
    # who asked stays in the warehouse: it may name a member of staff
    columns = {name for (name,) in published(daily, "select column_name from information_schema.columns "
                                                    "where table_name = 'override_log'")}
    assert {"customer_id", "dimension", "segment", "status", "reason"} <= columns and "requested_by" not in columns


def test_each_audience_keeps_the_same_holdout_from_one_day_to_the_next(runs):
    *_, day_by_day = runs
    first, second = ({(a, c): held for a, c, held in day_by_day[day]["holdout"]} for day in (D1, D2))
    both = first.keys() & second.keys()
    assert both and all(first[key] == second[key] for key in both)


def test_backfill_refuses_a_range_that_ends_before_it_starts(tmp_path):
    result = run_cli("backfill", "--from", D2, "--to", D1, cwd=tmp_path, env=env_for(tmp_path / "w"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"segments: backfill: --from {D2} is after --to {D1}"
    result = run_cli("backfill", "--from", "1999-12-31", "--to", D1, cwd=tmp_path, env=env_for(tmp_path / "w"))
    assert result.returncode == 2
    assert result.stderr.strip() == "segments: backfill: --from 1999-12-31 is before 2000-01-01, the first day " \
                                    "history can hold"
    result = run_cli("backfill", "--from", "yesterday", "--to", D1, cwd=tmp_path, env=env_for(tmp_path / "w"))
    assert result.returncode == 2 and "not a date (YYYY-MM-DD): 'yesterday'" in result.stderr
