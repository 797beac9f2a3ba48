{{ config(
    materialized='incremental', incremental_strategy='delete+insert',
    unique_key=['_source_file', '_file_hash', '_row_number'],
    post_hook="{% if is_incremental() %}delete from {{ this }} where outcome != 'accepted'{% endif %}",
) }}

-- Net order value converted with the latest fx rate on or before the order date
-- (the earliest known rate for orders older than the fx seed).
-- Incremental: a run converts the order rows triage re-stamped since the last build, whatever their outcome,
-- so that a row that stopped being accepted (a newer version, an orphan) replaces its earlier accepted self
-- and is then deleted by the post-hook; the table holds accepted rows only, as a full build does.
with

orders as (
    select * from {{ ref('int_orders_triaged') }}
    {%- if is_incremental() %}
    where _batch > {{ watermark('_batch') }}
    {%- else %}
    where outcome = 'accepted'
    {%- endif %}
),

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

earliest_rates as (
    select currency, arg_min(cny_per_unit, rate_date) as cny_per_unit
    from fx_rates
    group by currency
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

with_order_rate as (
    select
        dated.*,
        coalesce(fx_rates.cny_per_unit, earliest_rates.cny_per_unit) as order_cny_per_unit
    from dated
    asof left join fx_rates
        on dated.currency = fx_rates.currency and dated.order_date >= fx_rates.rate_date
    left join earliest_rates on dated.currency = earliest_rates.currency
),

with_reporting_rate as (
    select
        with_order_rate.*,
        coalesce(fx_rates.cny_per_unit, earliest_rates.cny_per_unit) as reporting_cny_per_unit
    from with_order_rate
    asof left join (
        select * from fx_rates where currency = '{{ var("reporting_currency") }}'
    ) as fx_rates
        on with_order_rate.order_date >= fx_rates.rate_date
    left join earliest_rates on earliest_rates.currency = '{{ var("reporting_currency") }}'
),

converted as (
    select
        * exclude (order_cny_per_unit, reporting_cny_per_unit),
        -- decimal, so that sums are exact and do not depend on the order threads add them in
        cast(round(net_amount * order_cny_per_unit / reporting_cny_per_unit, 2) as decimal(18, 2))
            as net_amount_reporting
    from with_reporting_rate
)

select * from converted
