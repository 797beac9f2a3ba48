-- Behaviour of each customer known at each snapshot date (the as-of date and the month ends before
-- it); orders dated after a snapshot are kept but not counted for it.
with

snapshots as (
    select * from {{ ref('int_snapshot_dates') }}
),

identities as {{ inline_cte() }} (
    -- read more than once: scanned again rather than copied
    select * from {{ ref('int_customers_merged') }}
),

customers as (
    -- one row per person: the canonical id of each merged group
    select
        standardised.*,
        count(*) over (partition by identities.canonical_customer_id) as merged_customer_ids
    from {{ ref('int_customers_standardised') }} as standardised
    inner join identities on standardised.customer_id = identities.customer_id
    qualify not identities.is_merged
),

daily as (
    -- each day's figures once, in the first snapshot that counts them; a snapshot sums its own and earlier ones
    select * from {{ at_first_snapshot(ref('int_customer_orders_daily'), 'order_date') }}
),

per_period as (
    select
        customer_id,
        first_snapshot_date,
        sum(orders_placed) as orders_placed,
        sum(cancelled_orders) as cancelled_orders,
        sum(refunded_orders) as refunded_orders,
        sum(completed_orders) as frequency,
        sum(completed_amount) as monetary,
        min(order_date) filter (where completed_orders > 0) as first_order_date,
        max(order_date) filter (where completed_orders > 0) as last_order_date
    from daily
    group by customer_id, first_snapshot_date
),

order_counts as (
    -- read once: DuckDB materialises a CTE that is read twice (a copy of one row per customer and snapshot);
    -- first and last order dates are NULL, and frequency and monetary 0, where nothing was completed
    select
        per_period.customer_id,
        snapshots.snapshot_date,
        cast(sum(per_period.orders_placed) as bigint) as orders_placed,
        cast(sum(per_period.cancelled_orders) as bigint) as cancelled_orders,
        cast(sum(per_period.refunded_orders) as bigint) as refunded_orders,
        cast(sum(per_period.frequency) as bigint) as frequency,
        sum(per_period.monetary) as monetary,
        min(per_period.first_order_date) as first_order_date,
        max(per_period.last_order_date) as last_order_date
    from per_period
    inner join snapshots on per_period.first_snapshot_date <= snapshots.snapshot_date
    group by per_period.customer_id, snapshots.snapshot_date
),

category_stats as (
    -- a category counts from the first snapshot on or after the customer's first purchase in it
    select firsts.customer_id, snapshots.snapshot_date, count(*) as category_count
    from (
        select identities.canonical_customer_id as customer_id, categories.category, min(categories.order_date) as first_date
        from {{ ref('int_customer_categories_daily') }} as categories
        inner join identities on categories.customer_id = identities.customer_id
        where categories.order_date is not null
        group by all
    ) as firsts
    inner join snapshots on firsts.first_date <= snapshots.snapshot_date
    group by firsts.customer_id, snapshots.snapshot_date
),

joined as (
    select
        customers.customer_id,
        snapshots.snapshot_date,
        snapshots.is_current,
        customers.customer_type,
        customers.acquisition_channel,
        cast(customers.signup_ts as date) as signup_date,
        coalesce(customers.marketing_opt_out, false) as marketing_opt_out,
        customers.merged_customer_ids,
        coalesce(order_counts.orders_placed, 0) as orders_placed,
        coalesce(order_counts.cancelled_orders, 0) as cancelled_orders,
        coalesce(order_counts.refunded_orders, 0) as refunded_orders,
        coalesce(order_counts.frequency, 0) as frequency,
        coalesce(order_counts.monetary, 0) as monetary,
        cast(order_counts.monetary as double) / nullif(order_counts.frequency, 0) as avg_order_value,
        order_counts.first_order_date,
        order_counts.last_order_date,
        -- days as bigint on both engines (DuckDB's datediff is bigint, Spark's int)
        cast({{ dbt.datediff("order_counts.last_order_date", "snapshots.snapshot_date", 'day') }} as bigint)
            as recency_days,
        cast({{ dbt.datediff("cast(customers.signup_ts as date)", "snapshots.snapshot_date", 'day') }} as bigint)
            as tenure_days,
        category_stats.category_count
    from customers
    cross join snapshots
    left join order_counts
        on customers.customer_id = order_counts.customer_id and snapshots.snapshot_date = order_counts.snapshot_date
    left join category_stats
        on customers.customer_id = category_stats.customer_id
        and snapshots.snapshot_date = category_stats.snapshot_date
),

known_at_snapshot as (
    select * from joined
    where signup_date <= snapshot_date or frequency > 0
)

select * from known_at_snapshot
