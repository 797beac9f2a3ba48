{{ config(
    post_hook="{% if is_incremental() %}delete from {{ this }} where outcome != 'accepted'{% endif %}",
    **keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'], deletes=true)
) }}

-- Net order value converted with the latest fx rate on or before the order date
-- (the earliest known rate for orders older than the fx seed).
-- Incremental: a run converts the order rows triage re-stamped since the last build, whatever their outcome,
-- so that a row that stopped being accepted (a newer version, an orphan) replaces its earlier accepted self
-- and is then deleted by the post-hook; the table holds accepted rows only, as a full build does.
with

orders as (
    select {{ keyed_star() }} from {{ ref('int_orders_triaged') }}
    {%- if is_incremental() %}
    where _batch > {{ watermark('_batch') }}
    {%- else %}
    where outcome = 'accepted'
    {%- endif %}
),

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

rate_spans as (
    -- each currency's first and last rate: a date before the first takes the earliest rate, one after the last
    -- the latest
    select
        currency,
        min(rate_date) as first_date,
        min_by(cny_per_unit, rate_date) as first_rate,
        max(rate_date) as last_date,
        max_by(cny_per_unit, rate_date) as last_rate
    from fx_rates
    group by currency
),

daily_rates as (
    -- the latest rate on or before each day from a currency's first rate to its last (a few thousand rows):
    -- orders find theirs by an equality join on this small table. An as-of join against the orders sorted
    -- every order row, twice, and at 100M orders spilled tens of GB. Each day meets every earlier rate of its
    -- currency (a few million pairs at most), which Spark, having no as-of join, can run too
    select days.currency, days.rate_day, fx_rates.cny_per_unit
    from (
        select currency, {{ days_between('first_date', 'last_date') }} as rate_day
        from rate_spans
    ) as days
    inner join fx_rates on days.currency = fx_rates.currency and days.rate_day >= fx_rates.rate_date
    qualify row_number() over (partition by days.currency, days.rate_day order by fx_rates.rate_date desc) = 1
),

dated as (
    select
        orders.order_id,
        orders.customer_id,
        orders.order_ts,
        cast(orders.order_ts as date) as order_date,
        orders.status,
        orders.currency,
        orders.channel,
        orders.total_amount,
        orders.discount_amount,
        orders.total_amount - orders.discount_amount as net_amount,
        orders.outcome,
        orders._source_file,
        orders._file_hash,
        orders._row_number,
        orders._batch
    from orders
),

with_rates as (
    select
        dated.*,
        case
            when dated.order_date > order_span.last_date then order_span.last_rate
            else coalesce(order_rate.cny_per_unit, order_span.first_rate)
        end as order_cny_per_unit,
        case
            when dated.order_date > reporting_span.last_date then reporting_span.last_rate
            else coalesce(reporting_rate.cny_per_unit, reporting_span.first_rate)
        end as reporting_cny_per_unit
    from dated
    left join rate_spans as order_span on dated.currency = order_span.currency
    left join daily_rates as order_rate
        on dated.currency = order_rate.currency and dated.order_date = order_rate.rate_day
    left join rate_spans as reporting_span on reporting_span.currency = '{{ var("reporting_currency") }}'
    left join daily_rates as reporting_rate
        on reporting_rate.currency = '{{ var("reporting_currency") }}' and dated.order_date = reporting_rate.rate_day
),

converted as (
    select
        {{ star_except(['order_cny_per_unit', 'reporting_cny_per_unit']) }},
        -- decimal, so that sums are exact and do not depend on the order threads add them in
        cast(round(net_amount * order_cny_per_unit / reporting_cny_per_unit, 2) as decimal(18, 2))
            as net_amount_reporting
    from with_rates
)

select * from converted
