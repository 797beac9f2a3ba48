"""The demo generator: seeded, sized by its arguments, and realistic enough to segment."""

from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.demo import DemoSpec, generate


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo")
    generate(path, DemoSpec(customers=1500, orders=15000))
    return path


@pytest.fixture(scope="module")
def con(landing):
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute(f"create view customers as select * from read_csv('{landing}/customers.csv', all_varchar=true)")
    con.execute(f"create view orders as select * from read_csv('{landing}/orders_*.csv', all_varchar=true)")
    con.execute(
        "create view good_orders as select *, try_cast(order_ts as timestamptz) as ts, "
        "try_cast(total_amount as double) as amount from orders "
        "where try_cast(order_ts as timestamptz) is not null and try_cast(total_amount as double) >= 0")
    yield con
    con.close()


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    spec = DemoSpec(customers=200, orders=1000)
    generate(tmp_path / "a", spec)
    generate(tmp_path / "b", spec)
    generate(tmp_path / "c", DemoSpec(customers=200, orders=1000, seed=7))
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "orders_2025.csv").read_bytes() != (tmp_path / "c" / "orders_2025.csv").read_bytes()


def test_sizes_follow_the_arguments(tmp_path):
    counts = generate(tmp_path, DemoSpec(customers=300, orders=2500, file_format="parquet"))
    assert counts["customers"] >= 300
    assert 2500 <= counts["orders"] <= 2500 * 1.01
    con = duckdb.connect()
    distinct = con.execute(
        f"select count(distinct customer_id) from read_parquet('{tmp_path}/customers.parquet')").fetchone()[0]
    assert distinct == 300


def test_orders_span_two_years_with_statuses_and_currencies(con):
    first, last = con.execute("select min(ts)::date, max(ts)::date from good_orders").fetchone()
    assert (last - first).days > 730
    assert last <= DemoSpec.end
    statuses = {s.lower() for (s,) in con.execute("select distinct status from orders").fetchall()}
    assert {"completed", "cancelled", "refunded", "pending"} <= statuses
    currencies = {c for (c,) in con.execute("select distinct currency from orders").fetchall()}
    assert {"CNY", "USD", "EUR"} <= currencies


def test_spend_and_frequency_are_heavy_tailed(con):
    top_share = con.execute("""
        with per_customer as (
            select customer_id, sum(amount) as spend from good_orders group by customer_id),
        ranked as (select spend, row_number() over (order by spend desc) as r, count(*) over () as n from per_customer)
        select sum(spend) filter (where r <= n * 0.2) / sum(spend) from ranked
    """).fetchone()[0]
    assert top_share > 0.5
    max_orders, median_orders = con.execute(
        "select max(c), median(c) from (select count(*) as c from good_orders group by customer_id)").fetchone()
    assert max_orders > 10 * median_orders


def test_double_11_and_618_are_busier_than_an_ordinary_day(con):
    per_day = dict(con.execute("""
        select case
            when month(ts) = 11 and day(ts) <= 11 then 'double_11'
            when month(ts) = 6 and day(ts) <= 18 then '618'
            else 'other' end as period,
            count(*) / count(distinct ts::date) as orders_per_day
        from good_orders group by 1
    """).fetchall())
    assert per_day["double_11"] > 1.5 * per_day["other"]
    assert per_day["618"] > 1.3 * per_day["other"]


def test_customers_are_mixed_and_messy(con):
    row = con.execute("""
        select
            count(*) filter (where customer_type = 'B2B'),
            count(*) filter (where regexp_matches(name, '[\u4e00-\u9fff]')),
            count(*) filter (where regexp_matches(name, '^[A-Za-z]')),
            count(distinct gender),
            count(*) filter (where birth_date is null),
            count(*) filter (where country in ('中国', 'China', 'CN'))
        from customers
    """).fetchone()
    b2b, chinese, latin, genders, no_birth, china = row
    assert b2b > 0 and chinese > 0 and latin > 0 and no_birth > 0 and china > 0
    assert genders >= 8


def test_some_customers_never_order_and_some_stop(con):
    never = con.execute(
        "select count(*) from (select distinct customer_id from customers) "
        "where customer_id not in (select customer_id from orders)").fetchone()[0]
    assert never > 0
    stopped = con.execute(
        "select count(*) from (select customer_id, max(ts) as last from good_orders group by 1) "
        f"where last < date '{date(DemoSpec.end.year - 1, DemoSpec.end.month, 1)}'").fetchone()[0]
    assert stopped > 0


def test_optional_entities_are_generated_with_realistic_correlations(landing, con):
    for entity in ("web_events", "feedback", "marketing_spend", "order_items", "products"):
        assert (landing / f"{entity}.csv").exists(), entity
    con.execute(f"create view events as select * from read_csv('{landing}/web_events.csv', all_varchar=true)")
    con.execute(f"create view feedback as select * from read_csv('{landing}/feedback.csv', all_varchar=true)")
    # customers still buying recently answer surveys more happily than those who stopped
    recent, lapsed = con.execute("""
        with last_order as (select customer_id, max(ts) as last from good_orders group by 1)
        select avg(nps_score::int) filter (where last >= date '2026-05-01'),
               avg(nps_score::int) filter (where last < date '2025-06-01')
        from feedback join last_order using (customer_id)
    """).fetchone()
    assert recent > lapsed + 1
    # anonymous visitors, every event type, and buyers browse more than prospects
    kinds = {k for (k,) in con.execute("select distinct event_type from events").fetchall()}
    assert kinds == {"page_view", "click", "add_to_cart", "search"}
    assert con.execute("select count(*) from events where customer_id is null").fetchone()[0] > 0
    buyers, prospects = con.execute("""
        with per_customer as (
            select c.customer_id, count(e.event_id) as events,
                   c.customer_id in (select customer_id from orders) as bought
            from (select distinct customer_id from customers) as c
            left join events as e using (customer_id) group by all)
        select avg(events) filter (where bought), avg(events) filter (where not bought) from per_customer
    """).fetchone()
    assert buyers > prospects > 0
    spend = con.execute(
        f"select count(distinct channel), sum(spend::double) from read_csv('{landing}/marketing_spend.csv')"
    ).fetchone()
    assert spend[0] == 5 and spend[1] > 0


def test_generate_command_writes_the_landing_zone_and_says_so(tmp_path, monkeypatch, capsys):
    from orchestration import cli

    monkeypatch.setenv("SEGMENTS_LANDING_DIR", str(tmp_path / "landing"))
    assert cli.main(["generate", "--customers", "50", "--orders", "200", "--no-items"]) == 0
    assert "generated" in capsys.readouterr().out
    assert (tmp_path / "landing" / "customers.csv").exists()
