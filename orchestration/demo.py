"""Seeded generator of a realistic landing zone (CONTRACT section 1), written in DuckDB SQL so it scales."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from orchestration import db

SURNAMES_ZH = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林 罗 高".split()
GIVEN_ZH = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 霞 平 刚 桂英 子涵 雨桐 浩然".split()
FIRST_LATIN = "James Mary Robert Linda Michael Sarah David Emma Lucas Sofia Noah Mia Liam Anna".split()
LAST_LATIN = "Smith Johnson Brown Garcia Miller Davis Martin Müller Rossi Dubois Tanaka Kim".split()
# city, province, country as written in the wild: the same place is spelled several ways.
PLACES = [
    ("北京", "北京市", "中国"), ("北京市", "北京", "CN"), ("上海", "上海市", "China"),
    ("上海市", "上海", "中国"), ("广州", "广东省", "中国"), ("深圳", "广东", "CN"),
    ("杭州", "浙江省", "中国"), ("成都", "四川省", "China"), ("武汉", "湖北省", "中国"),
    ("西安", "陕西省", "CN"), ("南京", "江苏省", "中国"), ("重庆", "重庆市", "中国"),
    ("苏州", "江苏", "PRC"), ("长沙", "湖南省", "中国"), ("Hong Kong", "", "HK"),
    ("Singapore", "", "Singapore"), ("New York", "NY", "US"), ("London", "", "United Kingdom"),
    ("Berlin", "", "DE"), ("Tokyo", "", "Japan"),
]
GENDERS = ["M", "F", "male", "female", "男", "女", "Female", "m", "unknown", ""]
CHANNELS = ["search", "social", "referral", "store", "partner"]
INDUSTRIES = ["manufacturing", "retail", "software", "healthcare", "education", "logistics", "制造业"]
OCCUPATIONS = ["engineer", "teacher", "student", "doctor", "designer", "manager", "freelancer", ""]
INCOME_BANDS = ["<5k", "5k-10k", "10k-20k", "20k-50k", ">50k", ""]
INTERESTS = ["sports", "travel", "beauty", "gaming", "cooking", "reading", "music", "outdoor"]
CATEGORIES = [
    ("electronics", ["phones", "laptops", "audio"]),
    ("apparel", ["women", "men", "kids"]),
    ("beauty", ["skincare", "makeup"]),
    ("home", ["kitchen", "furniture", "bedding"]),
    ("food", ["snacks", "tea", "fresh"]),
    ("books", ["fiction", "education"]),
    ("sports", ["fitness", "outdoor"]),
    ("baby", ["toys", "care"]),
]
BRANDS = ["华为", "小米", "Apple", "Nike", "李宁", "安踏", "L'Oréal", "海尔", "三只松鼠", "Sony"]
# currency, share of orders, approximate units per CNY (amounts are drawn in CNY then converted)
CURRENCIES = [("CNY", 0.85, 1.0), ("USD", 0.05, 0.14), ("HKD", 0.04, 1.09), ("EUR", 0.03, 0.13),
              ("JPY", 0.03, 20.5)]
STATUSES = [("completed", 0.84), ("Completed", 0.02), ("cancelled", 0.07), ("refunded", 0.05),
            ("PENDING", 0.02)]
ORDER_CHANNELS = ["online", "app", "store", "mini_program"]


@dataclass(frozen=True)
class DemoSpec:
    customers: int = 2000
    orders: int = 20000
    seed: int = 42
    start: date = date(2023, 11, 1)
    end: date = date(2026, 10, 31)
    file_format: str = "csv"
    with_items: bool = True
    # web events, feedback and marketing spend
    with_behaviour: bool = True


def generate(landing_dir: Path, spec: DemoSpec = DemoSpec()) -> dict[str, int]:
    """Write customers, orders (one file per year), order_items and products; return row counts."""
    if spec.file_format not in ("csv", "parquet"):
        raise ValueError(f"file format must be csv or parquet, got {spec.file_format!r}")
    landing_dir.mkdir(parents=True, exist_ok=True)
    # the run's memory cap and spill folder: at 100M orders the generated tables outgrow a laptop's memory
    con = db.connect(":memory:")
    con.execute("set timezone = 'UTC'")
    _define_helpers(con, spec.seed)
    con.execute(_customers_sql(spec))
    con.execute(_orders_sql(spec))
    con.execute(_DIRT_SQL)
    counts = {"customers": _write(con, "customers", landing_dir / f"customers.{spec.file_format}", spec)}
    years = [r[0] for r in con.execute(
        "select distinct year(order_ts_value) from gen_orders order by 1").fetchall()]
    counts["orders"] = 0
    for year in years:
        counts["orders"] += _write(
            con, f"(select * exclude (order_ts_value) from gen_orders "
                 f"where year(order_ts_value) = {year} order by order_id)",
            landing_dir / f"orders_{year}.{spec.file_format}", spec)
    if spec.with_behaviour:
        con.execute(_behaviour_sql(spec))
        for entity in ("web_events", "feedback", "marketing_spend"):
            counts[entity] = _write(con, f"gen_{entity}", landing_dir / f"{entity}.{spec.file_format}", spec)
    if spec.with_items:
        con.execute(_products_sql())
        con.execute(_items_sql())
        counts["products"] = _write(con, "gen_products", landing_dir / f"products.{spec.file_format}", spec)
        counts["order_items"] = _write(
            con, "gen_items", landing_dir / f"order_items.{spec.file_format}", spec)
    con.close()
    return counts


def _write(con: duckdb.DuckDBPyConnection, relation: str, path: Path, spec: DemoSpec) -> int:
    source = relation if relation.startswith("(") else f"(select * from {relation})"
    options = "(format parquet)" if spec.file_format == "parquet" else "(header, delimiter ',')"
    # COPY answers with the number of rows it wrote: no second pass over the query
    return con.execute(f"copy {source} to '{path}' {options}").fetchone()[0]


def _sql_list(values: list) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _struct_list(rows: list[dict]) -> str:
    """Python dicts -> a DuckDB list-of-structs literal (cumulative shares as exact decimals)."""
    def literal(value: object) -> str:
        return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else f"{value:f}"
    return "[" + ", ".join(
        "{" + ", ".join(f"'{k}': {literal(v)}" for k, v in row.items()) + "}" for row in rows) + "]"


def _define_helpers(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    # hash() of (row, field, seed) gives a reproducible uniform draw whatever the thread count.
    con.execute(f"create macro u(i, field) as (hash(i, field, {int(seed)}) % 1000000007)::double / 1000000007")
    con.execute("create macro pick(lst, i, field) as lst[1 + floor(u(i, field) * len(lst))::int]")
    con.execute(
        "create macro normal(i, field) as "
        "sqrt(-2 * ln(greatest(u(i, field || 'a'), 1e-12))) * cos(2 * pi() * u(i, field || 'b'))")


def _customers_sql(spec: DemoSpec) -> str:
    span = (spec.end - spec.start).days
    places = _struct_list([{"city": c, "province": p, "country": k} for c, p, k in PLACES])
    return f"""
    create table gen_people as
    with base as (
        select
            i,
            u(i, 'b2b') < 0.1 as is_b2b,
            u(i, 'zh') < 0.75 as is_zh,
            -- heavy tail: Pareto activity weight; 12% never buy, 30% churn at some date
            case when u(i, 'prospect') < 0.12 then 0 else pow(greatest(u(i, 'w'), 1e-6), -1 / 1.3) end as weight,
            date '{spec.start}' - interval 365 day + to_days(floor(u(i, 'signup') * ({span} + 300))::int) as signup_day,
            u(i, 'churn') < 0.3 as churns,
            {places}[1 + floor(u(i, 'place') * {len(PLACES)})::int] as place
        from range(1, {spec.customers} + 1) as t(i)
    )
    select
        *,
        least(signup_day + to_days(30 + floor(u(i, 'life') * 700)::int), date '{spec.end}') as churn_day
    from base;

    create table customers as
    select
        printf('C%08d', i) as customer_id,
        case when is_zh then pick({_sql_list(SURNAMES_ZH)}, i, 's') || pick({_sql_list(GIVEN_ZH)}, i, 'g')
             else pick({_sql_list(FIRST_LATIN)}, i, 'f') || ' ' || pick({_sql_list(LAST_LATIN)}, i, 'l') end as name,
        case when u(i, 'email') < 0.9 then 'user' || i || '@example.com' end as email,
        case when u(i, 'phone') < 0.8 then '+86 1' || (30 + floor(u(i, 'p1') * 60)::int) || ' ' || lpad((floor(u(i, 'p2') * 1e8)::bigint)::varchar, 8, '0') end as phone,
        pick({_sql_list(GENDERS)}, i, 'gender') as gender,
        case when u(i, 'bd') < 0.7 then strftime(date '1955-01-01' + to_days(floor(u(i, 'bd2') * 18000)::int), '%Y-%m-%d') end as birth_date,
        place.city as city,
        place.province as province,
        place.country as country,
        strftime(signup_day + to_seconds(floor(u(i, 'st') * 86400)::bigint), '%Y-%m-%dT%H:%M:%S') as signup_ts,
        pick({_sql_list(CHANNELS)}, i, 'ch') as acquisition_channel,
        case when is_b2b then 'B2B' when u(i, 'ct') < 0.5 then 'B2C' else '' end as customer_type,
        case when is_b2b then pick({_sql_list(['华兴', '远航', 'Nordic', 'Apex', '东方', 'Blue'])}, i, 'cn') || ' ' || pick({_sql_list(['科技有限公司', 'Trading Ltd', '实业', 'GmbH'])}, i, 'cn2') end as company_name,
        case when is_b2b then pick({_sql_list(INDUSTRIES)}, i, 'ind') end as industry,
        case when is_b2b then floor(pow(10, 1 + u(i, 'emp') * 3.5))::int end as employee_count,
        case when is_b2b then round(pow(10, 5 + u(i, 'rev') * 4), 2) end as annual_revenue,
        case when not is_b2b then pick({_sql_list(OCCUPATIONS)}, i, 'occ') end as occupation,
        case when not is_b2b then pick({_sql_list(INCOME_BANDS)}, i, 'inc') end as income_band,
        case when u(i, 'int') < 0.6 then pick({_sql_list(INTERESTS)}, i, 'i1') || ';' || pick({_sql_list(INTERESTS)}, i, 'i2') end as interests,
        case when u(i, 'ref') < 0.08 and i > 10 then printf('C%08d', 1 + floor(u(i, 'refby') * (i - 1))::int) end as referred_by,
        case when u(i, 'opt') < 0.1 then pick({_sql_list(['true', 'yes', '1', '是'])}, i, 'o1')
             when u(i, 'opt') < 0.5 then pick({_sql_list(['false', 'no', '0', '否', ''])}, i, 'o2') end as marketing_opt_out,
        strftime(signup_day + to_days(floor(u(i, 'upd') * 30)::int), '%Y-%m-%dT%H:%M:%S') as updated_at,
        -- a protected attribute some exports carry: the loader must drop it
        case when is_zh then pick({_sql_list(['汉族', '汉族', '汉族', '回族', '满族', ''])}, i, 'eth') end as "民族"
    from gen_people
    order by i
    """


def _orders_sql(spec: DemoSpec) -> str:
    currencies = _struct_list([
        {"code": c, "cum": sum(share for _, share, _ in CURRENCIES[: k + 1]), "per_cny": r}
        for k, (c, _, r) in enumerate(CURRENCIES)])
    statuses = _struct_list([
        {"code": c, "cum": sum(share for _, share in STATUSES[: k + 1])} for k, (c, _) in enumerate(STATUSES)])
    return f"""
    create table buyer_ranges as
    select i as customer_i, is_b2b, signup_day, churns, churn_day,
        sum(weight) over (order by i) - weight as cum_from
    from gen_people where weight > 0;

    create table gen_orders as
    with picks as (
        select o, u(o, 'who') * (select sum(weight) from gen_people) as point
        from range(1, {spec.orders} + 1) as t(o)
    ),
    owners as (
        select p.o, b.*
        from picks as p asof join buyer_ranges as b on p.point >= b.cum_from
    ),
    windows as (
        select *,
            signup_day as window_start,
            case when churns then churn_day else date '{spec.end}' end as window_end
        from owners
    ),
    timed as (
        select *,
            window_start + to_days(floor(u(o, 'when') * greatest(date_diff('day', window_start, window_end), 0))::int) as base_day,
            -- seasonality: part of the orders moves onto Spring Festival, 618 or Double 11 of that year
            u(o, 'festival') as festival_draw
        from windows
    ),
    seasonal as (
        select *,
            case
                when festival_draw < 0.06 then make_date(year(base_day), 1, 20) + to_days(floor(u(o, 'fd') * 20)::int)
                when festival_draw < 0.14 then make_date(year(base_day), 6, 1) + to_days(floor(u(o, 'fd') * 18)::int)
                when festival_draw < 0.24 then make_date(year(base_day), 11, 1) + to_days(floor(u(o, 'fd') * 11)::int)
                else base_day
            end as festival_day
        from timed
    ),
    dated as (
        select *,
            case when festival_day between window_start and window_end then festival_day else base_day end
              + to_seconds(floor(u(o, 'sec') * 86400)::bigint) as order_ts_value,
            list_filter({currencies}, lambda c: c.cum >= u(o, 'cur'))[1] as cur,
            list_filter({statuses}, lambda s: s.cum >= u(o, 'status'))[1].code as status,
            exp(5.0 + 1.0 * normal(o, 'amt') + case when is_b2b then 1.5 else 0 end) as amount_cny
        from seasonal
        where window_end >= window_start
    )
    select
        printf('O%010d', o) as order_id,
        printf('C%08d', customer_i) as customer_id,
        strftime(order_ts_value, '%Y-%m-%dT%H:%M:%S') || case when u(o, 'tz') < 0.2 then '+00:00' else '' end as order_ts,
        status,
        cur.code as currency,
        cast(round(amount_cny * cur.per_cny, 2) as varchar) as total_amount,
        case when u(o, 'disc') < 0.3 then cast(round(amount_cny * cur.per_cny * u(o, 'dv') * 0.2, 2) as varchar) end as discount_amount,
        pick({_sql_list(ORDER_CHANNELS)}, o, 'och') as channel,
        strftime(order_ts_value + to_hours(1 + floor(u(o, 'u') * 48)::int), '%Y-%m-%d %H:%M:%S') as updated_at,
        order_ts_value
    from dated
    """


# Real exports are dirty: a few new versions of customers and orders (the latest wins), and about
# 1% of orders broken in ways the pipeline must quarantine. Customer ids stay intact, so the
# published customers are exactly the distinct customer ids of the input.
_DIRT_SQL = """
insert into customers
select * replace (
    coalesce(nullif(city, ''), '上海') as city,
    strftime(cast(updated_at as timestamp) + interval 20 day, '%Y-%m-%dT%H:%M:%S') as updated_at)
from customers where u(hash(customer_id), 'version') < 0.01;

insert into gen_orders
select * replace (
    'refunded' as status,
    strftime(order_ts_value + interval 3 day, '%Y-%m-%d %H:%M:%S') as updated_at)
from gen_orders where u(hash(order_id), 'version') < 0.005 and status = 'completed';

update gen_orders set
    order_ts = case when k < 0.2 then '2025-13-45 25:61:00' else order_ts end,
    total_amount = case when k >= 0.2 and k < 0.4 then '-' || total_amount
                        when k >= 0.4 and k < 0.5 then 'N/A' else total_amount end,
    currency = case when k >= 0.5 and k < 0.7 then 'XYZ' else currency end,
    customer_id = case when k >= 0.7 then 'C99999999' else customer_id end
from (select order_id as dirty_id, u(hash(order_id), 'kind') as k from gen_orders
      where u(hash(order_id), 'dirt') < 0.01) as dirty
where gen_orders.order_id = dirty.dirty_id;
"""


# acquisition cost per new customer by channel (CNY): spend is drawn around it
CHANNEL_CAC = {"search": 80, "social": 60, "referral": 20, "store": 120, "partner": 100}
EVENT_TYPES = [("page_view", 0.70), ("click", 0.90), ("add_to_cart", 0.97), ("search", 1.0)]


def _behaviour_sql(spec: DemoSpec) -> str:
    """Web sessions, surveys and marketing spend, correlated with each customer's activity and churn."""
    categories = _sql_list([c for c, _ in CATEGORIES])
    event_types = _struct_list([{"code": c, "cum": cum} for c, cum in EVENT_TYPES])
    cac = _struct_list([{"channel": c, "cac": v} for c, v in CHANNEL_CAC.items()])
    events = spec.orders * 2
    return f"""
    create table gen_web_events as
    with visitors as (
        -- active buyers browse more; prospects browse too (some browse without buying);
        -- one event in six is an anonymous visitor
        select i, weight, signup_day,
            case when churns then churn_day else date '{spec.end}' end as last_day,
            sum(sqrt(weight) + 0.3) over (order by i) - (sqrt(weight) + 0.3) as cum_from
        from gen_people
    ),
    picks as (
        select e, u(e, 'visitor') * (select sum(sqrt(weight) + 0.3) from gen_people) as point
        from range(1, {events} + 1) as t(e)
    ),
    owned as (
        select p.e, v.* from picks as p asof join visitors as v on p.point >= v.cum_from
    ),
    timed as (
        select *,
            last_day - to_days(floor(pow(u(e, 'when'), 2) * greatest(date_diff('day', signup_day, last_day), 0))::int)
              + to_seconds(floor(u(e, 'sec') * 86400)::bigint) as ts
        from owned
    )
    select
        printf('E%011d', e) as event_id,
        case when u(e, 'anon') < 0.17 then null else printf('C%08d', i) end as customer_id,
        printf('S%08d-%04d', i, floor(u(e, 'session') * 40)::int) as session_id,
        strftime(ts, '%Y-%m-%dT%H:%M:%S') as event_ts,
        list_filter({event_types}, lambda x: x.cum >= u(e, 'type'))[1].code as event_type,
        case when u(e, 'cat') < 0.85 then pick({categories}, i + floor(u(e, 'cat2') * 1.6)::int, 'pc') end as page_category,
        round(exp(3.3 + 0.8 * normal(e, 'dwell')), 1) as dwell_seconds
    from timed
    order by e;

    create table gen_feedback as
    with surveyed as (
        select i, churns, signup_day, weight,
            case when churns then churn_day else date '{spec.end}' end as last_day
        from gen_people
        where weight > 0 and u(i, 'survey') < 0.35
    ),
    surveys as (
        select s.*, k from surveyed as s, range(1, 3) as t(k)
        where k = 1 or u(i, 'second') < 0.3
    )
    select
        printf('C%08d', i) as customer_id,
        strftime(last_day - to_days(floor(u(i * 7 + k, 'sd') * greatest(date_diff('day', signup_day, last_day), 1))::int),
                 '%Y-%m-%dT%H:%M:%S') as survey_ts,
        -- customers who leave were less satisfied
        least(10, greatest(0, round(case when churns then 5.5 else 8.2 end + 2.0 * normal(i * 7 + k, 'nps'))))::int as nps_score,
        case when u(i * 7 + k, 'csat') < 0.7 then least(5, greatest(1, round(case when churns then 2.8 else 4.1 end + normal(i * 7 + k, 'cs')))) end::int as csat_score,
        case when u(i * 7 + k, 'comment') < 0.2 then pick(['物流很快', '质量不错', 'too slow', '客服态度好', 'price too high'], i + k, 'cm') end as comment
    from surveys
    order by customer_id, survey_ts;

    create table gen_marketing_spend as
    with months as (
        select cast(m as date) as month
        from range(date_trunc('month', date '{spec.start}' - interval 365 day), date '{spec.end}', interval 1 month) as t(m)
    ),
    acquired as (
        select date_trunc('month', signup_day) as month, ch.channel, count(*) as new_customers
        from gen_people, (select unnest({cac}) as ch)
        where pick({_sql_list(CHANNELS)}, i, 'ch') = ch.channel
        group by all
    ),
    channels as (select unnest({cac}) as ch)
    select
        strftime(months.month, '%Y-%m-%d') as spend_date,
        channels.ch.channel as channel,
        round(coalesce(acquired.new_customers, 0) * channels.ch.cac * (0.7 + 0.6 * u(hash(months.month, channels.ch.channel), 'spend')), 2) as spend,
        'CNY' as currency
    from months cross join channels
    left join acquired on acquired.month = months.month and acquired.channel = channels.ch.channel
    order by 1, 2
    """


def _products_sql() -> str:
    rows = []
    for ci, (category, subs) in enumerate(CATEGORIES):
        for si, sub in enumerate(subs):
            for k in range(1, 9):
                pid = f"P{ci + 1:02d}{si + 1:02d}{k:02d}"
                brand = BRANDS[(ci * 7 + si * 3 + k) % len(BRANDS)]
                rows.append(f"('{pid}', '{brand.replace(chr(39), chr(39) * 2)} {sub} {k}', "
                            f"'{category}', '{sub}', '{brand.replace(chr(39), chr(39) * 2)}')")
    return ("create table gen_products as select * from (values " + ", ".join(rows)
            + ") as t(product_id, product_name, category, subcategory, brand) order by product_id")


def _items_sql() -> str:
    return """
    create table gen_items as
    with lines as (
        select o.order_id, o.total_amount, l.line_no,
            1 + floor(u(hash(o.order_id), 'lines') * 3)::int as line_count
        from (
            select order_id, coalesce(abs(try_cast(min(total_amount) as double)), 100) as total_amount
            from gen_orders group by order_id
        ) as o, range(1, 4) as l(line_no)
    ),
    kept as (
        select *, hash(order_id, line_no) as h from lines where line_no <= line_count
    ),
    products as (
        select list(product_id order by product_id) as ids from gen_products
    )
    select
        order_id,
        line_no,
        pick(products.ids, h, 'prod') as product_id,
        1 + floor(u(h, 'qty') * 3)::int as quantity,
        round(total_amount / line_count / (1 + floor(u(h, 'qty') * 3)::int), 2) as unit_price
    from kept, products
    order by order_id, line_no
    """
