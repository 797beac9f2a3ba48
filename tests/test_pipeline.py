"""The whole asset graph in-process on a small hand-written landing zone with known answers."""

import csv
from datetime import date
from decimal import Decimal

import pytest

from orchestration.runner import run_pipeline
from tests.conftest import REPO, point_settings_at, query, write_csv

CUSTOMER_COLUMNS = ["customer_id", "name", "email", "signup_ts", "customer_type",
                    "acquisition_channel", "updated_at"]
ORDER_COLUMNS = ["order_id", "customer_id", "order_ts", "status", "currency", "total_amount",
                 "discount_amount", "updated_at"]


def usd_rate(month: str) -> Decimal:
    with (REPO / "seeds" / "fx_rates.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["rate_date"] == month and row["currency"] == "USD":
                return Decimal(row["cny_per_unit"])
    raise LookupError(month)


def write_landing(workspace):
    write_csv(workspace / "landing" / "customers.csv", CUSTOMER_COLUMNS, [
        ["c1", "张伟", "zw@example.com", "2025-01-01T08:00:00", "", "search", "2025-01-01"],
        ["c1", "张伟", "zw@example.com", "2025-01-01T08:00:00", "", "social", "2025-02-01"],
        ["c2", "Acme", "", "2025-06-01 09:00:00+08:00", "b2b", "partner", ""],
        ["c3", "李娜", "", "2026-06-01", "B2C", "store", ""],
        ["c4", "王芳", "", "2024-01-01", "", "search", ""],
        ["c5", "Mary", "", "2024-01-01", "", "referral", ""],
        ["", "nobody", "", "2024-01-01", "", "search", ""],
    ])
    write_csv(workspace / "landing" / "orders_2026.csv", ORDER_COLUMNS, [
        ["o1", "c1", "2026-06-20T10:00:00", "completed", "CNY", "100", "10", "2026-06-21"],
        ["o1", "c1", "2026-06-20T10:00:00", "pending", "CNY", "100", "10", "2026-06-20"],
        ["o2", "c1", "2026-03-01T10:00:00", "Completed", "USD", "10", "", ""],
        ["o3", "c1", "2026-07-05T10:00:00", "completed", "CNY", "999", "", ""],
        ["o4", "c2", "2026-05-01T10:00:00", "completed", "CNY", "1000", "0", ""],
        ["o5", "c2", "2026-05-01T11:00:00", "refunded", "CNY", "500", "", ""],
        ["o6", "c4", "2026-01-01T10:00:00", "CANCELLED", "CNY", "80", "", ""],
        ["o7", "c5", "2024-02-01T10:00:00", "completed", "CNY", "50", "", ""],
        ["o8", "c9", "2026-02-01T10:00:00", "completed", "CNY", "50", "", ""],
        ["o9", "c1", "yesterday", "completed", "CNY", "50", "", ""],
        ["o10", "c1", "2026-02-01T10:00:00", "completed", "CNY", "-5", "", ""],
        ["o11", "c1", "2026-02-01T10:00:00", "completed", "XYZ", "5", "", ""],
    ])


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple:
    """One run over the hand-written landing zone, shared by the tests that only read its results."""
    root = tmp_path_factory.mktemp("pipeline")
    with pytest.MonkeyPatch.context() as monkeypatch:
        point_settings_at(root, monkeypatch)
        monkeypatch.setenv("SEGMENTS_AS_OF", "2026-06-30")
        monkeypatch.setenv("SEGMENTS_MAX_REJECT_RATE", "0.5")
        write_landing(root)
        outcome = run_pipeline(root / "run.log")
    return root, outcome


def test_known_customers_get_known_features_and_segments(landing):
    landing, outcome = landing
    assert outcome.success, outcome.reason
    bi = landing / "publish" / "bi.duckdb"
    rows = {r[0]: r[1:] for r in query(bi, """
        select customer_id, as_of_date, frequency, monetary, recency_days, orders_placed,
               cancelled_orders, refunded_orders, lifecycle_stage, business_segment,
               acquisition_channel, customer_type
        from customer_segments order by customer_id""")}
    assert set(rows) == {"c1", "c2", "c3", "c4", "c5"}
    as_of = date(2026, 6, 30)
    expected_c1 = Decimal("90") + (Decimal("10") * usd_rate("2026-03-01")).quantize(Decimal("0.01"))
    assert rows["c1"][:7] == (as_of, 2, expected_c1, 10, 2, 0, 0)
    assert rows["c1"][9] == "social"  # the later version of the customer wins
    assert rows["c2"][:7] == (as_of, 1, Decimal("1000.00"), 60, 2, 0, 1)
    assert rows["c2"][10] == "B2B"
    assert rows["c3"][1:3] == (0, Decimal("0.00")) and rows["c3"][7] == "prospect"
    assert rows["c4"][5] == 1 and rows["c4"][7:9] == ("prospect", "prospect")
    assert rows["c5"][3] == (as_of - date(2024, 2, 1)).days and rows["c5"][7] == "churned"


def test_every_row_is_accounted_for(landing):
    landing, outcome = landing
    assert outcome.success, outcome.reason
    warehouse = landing / "warehouse.duckdb"
    reasons = query(warehouse, "select entity, reason from quarantine order by 1, 2")
    assert reasons == [
        ("customers", "missing_customer_id"),
        ("orders", "negative_amount"),
        ("orders", "orphan_order"),
        ("orders", "unknown_currency"),
        ("orders", "unparseable_timestamp"),
    ]
    audit = query(landing / "publish" / "bi.duckdb", """
        select entity, rows_read, rows_accepted, rows_quarantined, rows_duplicate
        from load_audit order by entity""")
    assert audit == [("customers", 7, 5, 1, 1), ("orders", 12, 7, 4, 1)]


def test_a_failing_dbt_test_blocks_publication(workspace, monkeypatch):
    monkeypatch.setenv("SEGMENTS_AS_OF", "2026-06-30")
    monkeypatch.setenv("SEGMENTS_MAX_REJECT_RATE", "0.5")
    monkeypatch.setenv("SEGMENTS_REPORTING_CURRENCY", "ZZZ")  # no fx rates: nothing can convert
    write_landing(workspace)
    outcome = run_pipeline(workspace / "run.log")
    assert not outcome.success
    assert "blocking check failed" in outcome.reason
    assert outcome.failed_checks == ["assert_reporting_currency_has_fx_rates on reference/fx_rates"]
    assert not (workspace / "publish" / "bi.duckdb").exists()
    assert not (workspace / "publish" / "current").exists()
