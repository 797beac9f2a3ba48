"""Incremental daily runs publish what a full refresh publishes on the same landed files (issue 10).

The days are cut from the demo generator's own output (dirty rows and all), then given the things daily exports
do: orders updated after they were first sent, exact re-sends, a late order from years ago, a row that does not
parse, customers arriving a day after their orders and browsing (orphans until then), a customer updated, and a
day's file sent again with changed content (the first version becomes duplicate).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.demo import DemoSpec, generate
from tests.conftest import DEFAULT_ENV, query, run_cli

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HELD_BACK_CUSTOMERS = 12


def _env(root: Path) -> dict[str, str]:
    return {**DEFAULT_ENV, "SEGMENTS_LANDING_DIR": str(root / "landing"),
            "SEGMENTS_WAREHOUSE": str(root / "warehouse.duckdb"), "SEGMENTS_PUBLISH_DIR": str(root / "publish"),
            # the held-back customers' orders and visits are orphans until day 3
            "SEGMENTS_MAX_REJECT_RATE": "0.2"}


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(f"copy ({query}) to '{path}' (header, delimiter ',')")


def _day_files(source: Path, day: int, landing: Path) -> None:
    """Write day 1, 2 or 3 of the export into landing (day 3 also re-sends day 2's orders, changed)."""
    con = duckdb.connect()
    for entity in ("customers", "orders", "order_items", "products", "web_events", "feedback", "marketing_spend"):
        con.execute(f"create view {entity} as select * from read_csv('{source}/{entity}*.csv', all_varchar = true, "
                    f"union_by_name = true, filename = false)")
    # by order time: the oldest 90 % on day 1, the next 7 % on day 2, the rest on day 3 (unparseable times on day 1)
    con.execute("""
        create table dated as
        select *, ntile(100) over (order by try_cast(order_ts as timestamp) nulls first, order_id) as pct
        from orders""")
    con.execute(f"""
        create table held_back as
        select customer_id from (select distinct customer_id from customers where customer_id is not null)
        order by customer_id desc limit {HELD_BACK_CUSTOMERS}""")
    order_columns = ("order_id, customer_id, order_ts, status, currency, total_amount, discount_amount, channel, "
                     "updated_at")
    if day == 1:
        _copy(con, "select * from customers where customer_id not in (select * from held_back) "
                   "or customer_id is null", landing / "customers_day1.csv")
        _copy(con, f"select {order_columns} from dated where pct <= 90", landing / "orders_day1.csv")
        _copy(con, "select * from order_items where order_id in (select order_id from dated where pct <= 90) "
                   "or order_id not in (select order_id from dated)", landing / "order_items_day1.csv")
        for entity in ("products", "web_events", "feedback", "marketing_spend"):
            _copy(con, f"select * from {entity}", landing / f"{entity}.csv")
    if day in (2, 3):
        # day 3 sends day 2's file again: the late order withdrawn and one amount corrected
        resent = day == 3
        _copy(con, f"""
            select {order_columns} from dated where pct between 91 and 97
                {"and order_id != (select min(order_id) from dated where pct between 91 and 97)" if resent else ""}
            union all
            -- ten day-1 orders refunded since, sent again with a later updated_at
            select * replace ('refunded' as status, '2026-11-30T00:00:00' as updated_at) from (
                select {order_columns} from dated
                where pct <= 90 and status = 'completed' and try_cast(updated_at as timestamp) is not null
                order by order_id limit 10)
            union all
            -- five day-1 orders re-sent unchanged
            select {order_columns} from (select * from dated where pct <= 90 order by order_id desc limit 5)
            union all
            select 'BAD-AMOUNT-1', (select min(customer_id) from customers), '2026-10-01T10:00:00', 'completed', 'CNY',
                'twelve', '0', 'online', '2026-10-01T10:00:00'
            {"" if resent else '''union all
            select 'LATE-ORDER-1', (select min(customer_id) from customers), '2023-03-08T12:00:00', 'completed',
                'CNY', '123.45', '0', 'online', '2023-03-08T12:00:00' '''}
            union all
            select 'CORRECTED-1', (select max(customer_id) from customers where customer_id not in
                (select * from held_back)), '2026-10-02T09:00:00', 'completed', 'CNY',
                '{"88.00" if resent else "80.00"}', '0', 'online', '2026-10-02T09:00:00'
        """, landing / "orders_day2.csv")
        _copy(con, "select * from order_items where order_id in "
                   "(select order_id from dated where pct between 91 and 97)", landing / "order_items_day2.csv")
    if day == 3:
        _copy(con, """
            select * from customers where customer_id in (select * from held_back)
            union all
            select * replace ('深圳市' as city, '2026-11-30T00:00:00' as updated_at)
            from (select * from customers where customer_id not in (select * from held_back)
                  and try_cast(updated_at as timestamp) is not null order by customer_id limit 3)""",
              landing / "customers_day3.csv")
        _copy(con, f"""
            select {order_columns} from dated where pct > 97
            union all
            -- ten other day-1 orders refunded since
            select * replace ('refunded' as status, '2026-12-01T00:00:00' as updated_at) from (
                select {order_columns} from dated
                where pct <= 90 and status = 'completed' and try_cast(updated_at as timestamp) is not null
                order by order_id limit 10 offset 10)
            union all
            select 'LATE-ORDER-2', (select min(customer_id) from customers), '2023-03-09T12:00:00', 'completed',
                'CNY', '54.32', '0', 'online', '2023-03-09T12:00:00'
        """, landing / "orders_day3.csv")
        _copy(con, "select * from order_items where order_id in (select order_id from dated where pct > 97)",
              landing / "order_items_day3.csv")
    con.close()


def _run(root: Path, *args: str) -> None:
    result = run_cli("run", "--quiet", *args, cwd=root, env=_env(root))
    assert result.returncode == 0, result.stderr


def _dbt_summary(root: Path) -> str:
    """What the last run's dbt build ran, as dbt sums it up ("Finished running ... 6 seeds, ...")."""
    lines = (root / "logs" / "segments-run.log").read_text(encoding="utf-8").splitlines()
    return next(line for line in reversed(lines) if "Finished running" in line)


def _published(root: Path) -> dict[str, list[tuple]]:
    current = root / "publish" / "current"
    with duckdb.connect() as con:
        return {path.stem: con.execute(f"select * from read_parquet('{path}') order by all").fetchall()
                for path in sorted(current.glob("*.parquet"))}


def _incremental_tables(root: Path) -> dict[str, list[tuple]]:
    """Staging, triage, converted orders and daily aggregates without their bookkeeping stamp."""
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        names = con.execute("""
            select table_schema || '.' || table_name from information_schema.tables
            where table_type = 'BASE TABLE' and (table_schema = 'staging'
                or table_name like 'int_%_triaged' or table_name like 'int_customer_%_daily'
                or table_name in ('int_orders_converted', 'int_customer_sessions'))
            order by 1""").fetchall()
        tables = {}
        for (name,) in names:
            columns = [c for (c,) in con.execute(f"select column_name from (describe {name})").fetchall()]
            keep = ", ".join(f'"{c}"' for c in columns if c != "_batch")
            tables[name] = con.execute(f"select {keep} from {name} order by all").fetchall()
        return tables


@pytest.fixture(scope="module")
def daily_runs(tmp_path_factory):
    """Days 1-2 built, day 3 run incrementally on top, and a full refresh of a copy."""
    source = tmp_path_factory.mktemp("export")
    generate(source, DemoSpec(customers=300, orders=3000))
    incremental = tmp_path_factory.mktemp("incremental")
    (incremental / "landing").mkdir()
    stamps = []
    # days 1 and 2 together in the first build (fewer pipeline runs), day 3 incremental
    for days in ((1, 2), (3,)):
        for day in days:
            _day_files(source, day, incremental / "landing")
        _run(incremental)
        with duckdb.connect(str(incremental / "warehouse.duckdb"), read_only=True) as con:
            # day 1's rows, and how many of them this run re-triaged
            stamps.append(con.execute(
                "select count(*), count(*) filter (where _batch = (select max(_batch) from "
                "intermediate.int_orders_triaged)) from intermediate.int_orders_triaged "
                "where _source_file = 'orders_day1.csv'").fetchone())
    day_3_build = _dbt_summary(incremental)
    full = tmp_path_factory.mktemp("full")
    shutil.copytree(incremental / "landing", full / "landing")
    shutil.copy(incremental / "warehouse.duckdb", full / "warehouse.duckdb")
    _run(full, "--full-refresh")
    return incremental, full, (stamps, day_3_build, _dbt_summary(full))


def test_incremental_days_publish_what_a_full_refresh_publishes(daily_runs):
    incremental, full, _ = daily_runs
    got, expected = _published(incremental), _published(full)
    assert got.keys() == expected.keys()
    assert "customer_segments" in got
    for table in expected:
        assert got[table] == expected[table], table


def test_incremental_tables_equal_a_rebuild_row_for_row(daily_runs):
    incremental, full, _ = daily_runs
    got, expected = _incremental_tables(incremental), _incremental_tables(full)
    assert len(expected) >= 10
    for table in expected:
        assert got[table] == expected[table], table


def test_later_days_touch_only_what_changed(daily_runs):
    """Day 3 re-triages the keys its rows touch (updates, day 2's file sent again, the late customers' orders),
    not the whole of day 1."""
    _, _, (stamps, _, _) = daily_runs
    (rows, first), (rows_again, touched) = stamps
    assert first == rows == rows_again
    # at least the twenty updated and five re-sent orders, far from all of day 1
    assert 25 <= touched < rows * 0.1


def test_seeds_loaded_from_the_same_files_are_not_loaded_again(daily_runs):
    """Day 3 reuses the seeds the first build loaded (its tables equal the full refresh's, above); a full refresh
    loads and tests them again."""
    _, _, (_, day_3_build, full_refresh_build) = daily_runs
    assert " seeds" not in day_3_build and "incremental models" in day_3_build, day_3_build
    assert "6 seeds" in full_refresh_build, full_refresh_build


def test_load_audit_shows_both_versions_of_a_resent_file(daily_runs):
    incremental, _, _ = daily_runs
    audit = query(incremental / "publish" / "bi.duckdb", """
        select rows_read, rows_accepted, rows_quarantined, rows_duplicate from load_audit
        where entity = 'orders' and source_file = 'orders_day2.csv' order by loaded_at""")
    (read_1, accepted_1, quarantined_1, duplicate_1), (read_2, accepted_2, quarantined_2, duplicate_2) = audit
    # the first version counts whole as duplicate; the second one has the accepted rows
    assert (accepted_1, quarantined_1, duplicate_1) == (0, 0, read_1)
    # the second version withdrew one new order and the late order
    assert accepted_2 > 0 and read_2 == accepted_2 + quarantined_2 + duplicate_2 == read_1 - 2


def test_the_planted_cases_came_out_right(daily_runs):
    """Not only equal, but right: the held-back customers' orders were accepted once the customers arrived, the
    late order of the withdrawn file version counts nowhere, the corrected amount replaced the first one."""
    incremental, _, _ = daily_runs
    with duckdb.connect(str(incremental / "warehouse.duckdb"), read_only=True) as con:
        outcomes = dict(con.execute("""
            select order_id, list(outcome order by _loaded_at) from intermediate.int_orders_triaged
            where order_id in ('LATE-ORDER-1', 'LATE-ORDER-2', 'CORRECTED-1', 'BAD-AMOUNT-1')
            group by order_id""").fetchall())
        late_day = con.execute(
            "select completed_orders, completed_amount from intermediate.int_customer_orders_daily "
            "where order_date = '2023-03-09' and customer_id = (select customer_id from "
            "intermediate.int_orders_triaged where order_id = 'LATE-ORDER-2')").fetchall()
        orphans = con.execute("""
            select count(*) from intermediate.int_orders_triaged where reject_reason = 'orphan_order'
            and customer_id in (select customer_id from intermediate.int_customers_triaged
                                where outcome = 'accepted')""").fetchone()[0]
        corrected = con.execute(
            "select total_amount from intermediate.int_orders_triaged where order_id = 'CORRECTED-1' "
            "and outcome = 'accepted'").fetchall()
    assert outcomes["LATE-ORDER-1"] == ["duplicate"]
    assert outcomes["LATE-ORDER-2"] == ["accepted"]
    assert [(n, float(a)) for n, a in late_day] == [(1, 54.32)]
    assert outcomes["CORRECTED-1"] == ["duplicate", "accepted"]
    assert outcomes["BAD-AMOUNT-1"] == ["duplicate", "quarantined"]
    assert orphans == 0
    assert [float(a) for (a,) in corrected] == [88.0]
