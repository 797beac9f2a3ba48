"""The data-quality guard on a dirty landing zone whose every bad row is planted and counted."""

import json
import os
import shutil

import dagster as dg
import pytest

from orchestration.defs.sensors import landing_zone_sensor
from orchestration.privacy import keyed_hash
from orchestration.runner import run_pipeline
from orchestration.settings import DEMO_PSEUDONYM_KEY
from tests import dirty
from tests.conftest import point_settings_at, query, write_csv


@pytest.fixture(scope="module")
def dirty_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("dirty")
    with pytest.MonkeyPatch.context() as monkeypatch:
        point_settings_at(root, monkeypatch)
        monkeypatch.setenv("SEGMENTS_AS_OF", dirty.AS_OF)
        monkeypatch.setenv("SEGMENTS_MAX_REJECT_RATE", "0.5")
        expected = dirty.build(root / "landing")
        outcome = run_pipeline(root / "run.log")
    assert outcome.success, outcome.reason
    return root, expected


def test_every_planted_row_is_quarantined_with_its_reason(dirty_run):
    root, expected = dirty_run
    found = query(root / "warehouse.duckdb", "select entity, reason, count(*) from quarantine group by all")
    assert {(entity, reason): n for entity, reason, n in found} == dict(expected.quarantined)


def test_quarantined_rows_keep_their_original_values(dirty_run):
    root, _ = dirty_run
    [(record,)] = query(root / "warehouse.duckdb",
                        "select original_record from quarantine where reason = 'conflicting_duplicate' "
                        "and entity = 'customers'")
    assert json.loads(record)["city"] == "天津"
    [(line, record)] = query(root / "warehouse.duckdb",
                             "select line, original_record from quarantine where reason = 'malformed_row' "
                             "and entity = 'orders'")
    assert line > 1 and record == "short,row"
    # customers carry protected columns: a line whose fields cannot be aligned with the header is withheld
    # (a shifted field could be the protected one), and the record says why
    [(line, record)] = query(root / "warehouse.duckdb",
                             "select line, original_record from quarantine where reason = 'malformed_row' "
                             "and entity = 'customers'")
    assert line > 1 and "line withheld: the file carries protected columns" in record
    assert "toolong" not in record and "汉族" not in record


def test_reconciliation_holds_exactly(dirty_run):
    root, expected = dirty_run
    audit = query(root / "publish" / "bi.duckdb",
                  "select entity, rows_read, rows_accepted, rows_quarantined, rows_duplicate from load_audit")
    for entity, read, accepted, quarantined, duplicate in audit:
        assert read == expected.rows_read[entity], entity
        assert quarantined == sum(n for (e, _), n in expected.quarantined.items() if e == entity), entity
        assert duplicate == expected.duplicates[entity], entity
        assert read == accepted + quarantined + duplicate


def test_good_rows_are_unaffected_and_one_person_counts_once(dirty_run):
    root, expected = dirty_run
    rows = dict(((cid, (freq, monetary))) for cid, freq, monetary in query(
        root / "publish" / "bi.duckdb", "select customer_id, frequency, monetary from customer_segments"))
    assert set(rows) == set(expected.frequency)  # g021 is folded into g004; quarantined ids are absent
    for cid, frequency in expected.frequency.items():
        assert rows[cid] == (frequency, expected.monetary[cid]), cid
    identity = query(root / "publish" / "bi.duckdb",
                     "select customer_id, canonical_customer_id, matched_on from customer_identity_map "
                     "where is_merged")
    assert identity == [("g021", "g004", "email")]


def test_protected_columns_never_reach_the_warehouse(dirty_run):
    root, _ = dirty_run
    [(dropped,)] = query(root / "publish" / "bi.duckdb",
                         "select dropped_columns from load_audit where entity = 'customers'")
    assert set(dropped.split(",")) == {"religion", "民族"}
    columns = {c for (c,) in query(root / "warehouse.duckdb",
                                   "select column_name from information_schema.columns")}
    assert not columns & {"religion", "民族"}


def test_values_are_standardised(dirty_run):
    root, _ = dirty_run
    rows = {r[0]: r[1:] for r in query(root / "warehouse.duckdb", """
        select customer_id, gender, city, country_code, email_pseudonym, phone_pseudonym, company_name
        from intermediate.int_customers_standardised""")}
    # e-mail lower-cased and trimmed, phone in E.164, before the keyed hash (the demo key in tests)
    email, phone = (keyed_hash(DEMO_PSEUDONYM_KEY, v) for v in ("g008@example.com", "+8613800130008"))
    assert rows["g008"][:5] == ("male", "北京", "CN", email, phone)
    assert rows["g007"][2] == "CN"  # PRC
    assert rows["g001"][0:2] == ("female", "北京")  # 女, 北京市; the later of two conflicting rows
    assert rows["g006"][5] == "华兴, 科技\n有限公司"
    completeness = dict((c, m) for c, m in query(
        root / "publish" / "bi.duckdb",
        "select column_name, rows_missing from data_completeness where entity = 'customers'"))
    assert completeness["birth_date"] == len(rows)  # not in the file: counted missing, never invented
    assert completeness["email"] == 0


def test_validation_report_and_checks_are_written(dirty_run):
    root, _ = dirty_run
    report = root / "publish" / "quality"
    assert {p.name for p in report.iterdir()} >= {"index.html", "raw_orders.html", "accepted_orders.html"}
    assert "expect_column_values_to_be_in_set" in (report / "accepted_orders.html").read_text()


def test_above_the_reject_rate_the_run_fails_naming_entity_and_share(workspace, monkeypatch, capfd):
    monkeypatch.setenv("SEGMENTS_AS_OF", dirty.AS_OF)
    monkeypatch.setenv("SEGMENTS_MAX_REJECT_RATE", "0.1")
    dirty.build(workspace / "landing")
    outcome = run_pipeline(workspace / "run.log", progress=True)
    assert not outcome.success
    assert "customers: " in outcome.reason and "exceeds SEGMENTS_MAX_REJECT_RATE 10.0%" in outcome.reason
    assert not (workspace / "publish" / "bi.duckdb").exists()
    # the progress lines say so too
    progress = [line.split() for line in capfd.readouterr().out.splitlines()]
    assert ["transform", "done"] == next(p[:2] for p in progress if p[0] == "transform" and p[1] != "started")
    assert not [p for p in progress if p[:2] == ["publish", "done"]]
    assert ["publish", "not", "run:", "nothing", "was", "published"] in progress


def test_a_critical_expectation_blocks_and_a_warning_does_not(workspace, monkeypatch):
    monkeypatch.setenv("SEGMENTS_AS_OF", dirty.AS_OF)
    monkeypatch.setenv("SEGMENTS_MAX_REJECT_RATE", "0.9")
    write_csv(workspace / "landing" / "customers.csv", ["customer_id", "signup_ts"],
              [[f"c{i}", "2025-01-01"] for i in range(10)])
    # half the orders cancelled: a warning (more than 30%), the run still publishes
    write_csv(workspace / "landing" / "orders_1.csv", dirty.ORDER_HEADER,
              [[f"o{i}", f"c{i}", "2026-01-01", "cancelled" if i % 2 else "completed", "CNY", "10", "", ""]
               for i in range(10)])
    outcome = run_pipeline(workspace / "run.log")
    assert outcome.success, outcome.reason
    assert "accepted_orders" in (workspace / "publish" / "quality" / "accepted_orders.html").read_text()
    # most orders without a customer: a broken export, critical on the raw suite, nothing new is published
    write_csv(workspace / "landing" / "orders_2.csv", dirty.ORDER_HEADER,
              [[f"x{i}", "", "2026-01-02", "completed", "CNY", "10", "", ""] for i in range(20)])
    before = os.readlink(workspace / "publish" / "current")
    outcome = run_pipeline(workspace / "run.log")
    assert not outcome.success
    assert "gx_raw_orders on raw/orders" in outcome.reason
    assert os.readlink(workspace / "publish" / "current") == before


def tick(cursor: str | None):
    """One sensor evaluation; returns its result and the cursor it leaves."""
    context = dg.build_sensor_context(cursor=cursor)
    result = landing_zone_sensor(context)
    return result, context.cursor


def test_sensor_requests_a_run_for_new_or_changed_files_only_once_they_stop_changing(workspace):
    landing = workspace / "landing"
    write_csv(landing / "customers.csv", ["customer_id"], [["c1"]])
    # a file seen for the first time may still be being written: wait one tick
    first, cursor = tick(None)
    assert isinstance(first, dg.SkipReason) and "customers.csv" in first.skip_message
    second, cursor = tick(cursor)
    assert isinstance(second, dg.RunRequest)
    assert isinstance(tick(cursor)[0], dg.SkipReason)
    # a file that grows between ticks is not loaded until it has stopped growing
    write_csv(landing / "orders_new.csv", ["order_id"], [["o1"]])
    growing, cursor = tick(cursor)
    assert isinstance(growing, dg.SkipReason) and "orders_new.csv" in growing.skip_message
    with (landing / "orders_new.csv").open("a", encoding="utf-8") as handle:
        handle.write("o2\n")
    still_growing, cursor = tick(cursor)
    assert isinstance(still_growing, dg.SkipReason) and "orders_new.csv" in still_growing.skip_message
    request, cursor = tick(cursor)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["segments/new_files"] == "orders_new.csv"
    (landing / "notes.txt").write_text("not an entity file")
    shutil.copy(landing / "orders_new.csv", landing / "readme.csv")
    assert isinstance(tick(cursor)[0], dg.SkipReason)
    assert isinstance(tick(cursor)[0], dg.SkipReason)
