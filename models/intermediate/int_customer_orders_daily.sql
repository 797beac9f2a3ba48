{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='customer_id') }}

-- What each landed customer id ordered per order date (UTC): counts by status, completed spend, and when in the
-- customer's own week and day (local_timezone) the completed orders were placed. Features at the as-of date and
-- at every history date are cumulative sums of these rows (int_customer_features, int_customer_dimensions).
-- An incremental run recomputes only the customers whose orders were re-triaged in it, whatever the age of the
-- order (a late or updated order from last year included); a customer left without accepted orders keeps one
-- row with a NULL order_date, so that a full build and an incremental one hold the same rows.
with

triaged as (
    select * from {{ ref('int_orders_triaged') }}
),

affected as (
    {{ touched_customers('triaged') }}
),

calendar as (
    select unnest(range(start_date, end_date + interval 1 day, interval 1 day))::date as holiday_date
    from {{ ref('holiday_calendar') }}
),

orders as (
    select
        converted.*,
        timezone('{{ var("local_timezone") }}', converted.order_ts at time zone 'UTC') as local_order_ts
    from {{ ref('int_orders_converted') }} as converted
    where converted.customer_id in (select customer_id from affected)
),

completed as (
    select
        customer_id,
        order_date,
        net_amount_reporting,
        cast(local_order_ts as date) in (select holiday_date from calendar) as is_holiday,
        dayofweek(local_order_ts) in (0, 6) as is_weekend,
        hour(local_order_ts) as local_hour
    from orders
    where status = 'completed'
),

status_counts as (
    select
        customer_id,
        order_date,
        count(*) as orders_placed,
        count(*) filter (where status = 'cancelled') as cancelled_orders,
        count(*) filter (where status = 'refunded') as refunded_orders
    from orders
    group by customer_id, order_date
),

completed_sums as (
    select
        customer_id,
        order_date,
        count(*) as completed_orders,
        sum(net_amount_reporting) as completed_amount,
        coalesce(sum(net_amount_reporting) filter (where is_holiday), 0) as holiday_amount,
        count(*) filter (where is_weekend) as weekend_orders,
        count(*) filter (where local_hour < 6) as night_orders,
        count(*) filter (where local_hour >= 6 and local_hour < 12) as morning_orders,
        count(*) filter (where local_hour >= 12 and local_hour < 18) as afternoon_orders,
        count(*) filter (where local_hour >= 18) as evening_orders
    from completed
    group by customer_id, order_date
),

daily as (
    select
        affected.customer_id,
        status_counts.order_date,
        coalesce(status_counts.orders_placed, 0) as orders_placed,
        coalesce(status_counts.cancelled_orders, 0) as cancelled_orders,
        coalesce(status_counts.refunded_orders, 0) as refunded_orders,
        coalesce(completed_sums.completed_orders, 0) as completed_orders,
        coalesce(completed_sums.completed_amount, 0) as completed_amount,
        coalesce(completed_sums.holiday_amount, 0) as holiday_amount,
        coalesce(completed_sums.weekend_orders, 0) as weekend_orders,
        coalesce(completed_sums.night_orders, 0) as night_orders,
        coalesce(completed_sums.morning_orders, 0) as morning_orders,
        coalesce(completed_sums.afternoon_orders, 0) as afternoon_orders,
        coalesce(completed_sums.evening_orders, 0) as evening_orders,
        {{ load_batch() }} as _batch
    from affected
    left join status_counts on affected.customer_id = status_counts.customer_id
    left join completed_sums
        on status_counts.customer_id = completed_sums.customer_id
        and status_counts.order_date = completed_sums.order_date
)

select * from daily
