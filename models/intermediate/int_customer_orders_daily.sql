{{ config(**keyed_incremental(unique_key='customer_id')) }}

-- What each landed customer id ordered per order date (UTC): counts by status, completed spend, and when in the
-- customer's own week and day (local_timezone) the completed orders were placed. Features at the as-of date and
-- at every history date are cumulative sums of these rows (int_customer_features, int_customer_dimensions).
-- An incremental run recomputes only the customers whose orders were re-triaged in it, whatever the age of the
-- order (a late or updated order from last year included); a customer left without accepted orders keeps one
-- row with a NULL order_date, so that a full build and an incremental one hold the same rows.
with

triaged as (
    select {{ keyed_star() }} from {{ ref('int_orders_triaged') }}
),

affected as (
    {{ touched_customers('triaged') }}
),

calendar as (
    select distinct {{ days_between('start_date', 'end_date') }} as holiday_date
    from {{ ref('holiday_calendar') }}
),

orders as (
    -- read once: DuckDB copies a CTE that is read twice, and at a full build this one is every order
    select
        customer_id,
        order_date,
        status,
        status = 'completed' as is_completed,
        net_amount_reporting,
        local_order_ts,
        calendar.holiday_date is not null as is_holiday
    from (
        select
            converted.*,
            {{ local_time('converted.order_ts', var('local_timezone')) }} as local_order_ts
        from {{ ref('int_orders_converted') }} as converted
        where converted.customer_id in (select customer_id from affected)
    ) as converted
    left join calendar on cast(converted.local_order_ts as date) = calendar.holiday_date
),

per_day as (
    select
        customer_id,
        order_date,
        count(*) as orders_placed,
        count(*) filter (where status = 'cancelled') as cancelled_orders,
        count(*) filter (where status = 'refunded') as refunded_orders,
        count(*) filter (where is_completed) as completed_orders,
        sum(net_amount_reporting) filter (where is_completed) as completed_amount,
        sum(net_amount_reporting) filter (where is_completed and is_holiday) as holiday_amount,
        count(*) filter (where is_completed and {{ is_weekend('local_order_ts') }}) as weekend_orders,
        count(*) filter (where is_completed and hour(local_order_ts) < 6) as night_orders,
        count(*) filter (where is_completed and hour(local_order_ts) >= 6 and hour(local_order_ts) < 12)
            as morning_orders,
        count(*) filter (where is_completed and hour(local_order_ts) >= 12 and hour(local_order_ts) < 18)
            as afternoon_orders,
        count(*) filter (where is_completed and hour(local_order_ts) >= 18) as evening_orders
    from orders
    group by customer_id, order_date
),

daily as (
    select
        affected.customer_id,
        per_day.order_date,
        coalesce(per_day.orders_placed, 0) as orders_placed,
        coalesce(per_day.cancelled_orders, 0) as cancelled_orders,
        coalesce(per_day.refunded_orders, 0) as refunded_orders,
        coalesce(per_day.completed_orders, 0) as completed_orders,
        coalesce(per_day.completed_amount, 0) as completed_amount,
        coalesce(per_day.holiday_amount, 0) as holiday_amount,
        coalesce(per_day.weekend_orders, 0) as weekend_orders,
        coalesce(per_day.night_orders, 0) as night_orders,
        coalesce(per_day.morning_orders, 0) as morning_orders,
        coalesce(per_day.afternoon_orders, 0) as afternoon_orders,
        coalesce(per_day.evening_orders, 0) as evening_orders,
        {{ load_batch() }} as _batch
    from affected
    left join per_day on affected.customer_id = per_day.customer_id
)

select *{{ bucket_column('customer_id') }} from daily
