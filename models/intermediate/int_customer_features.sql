-- Behaviour of each customer known at each snapshot date (the as-of date and the month ends before
-- it); orders dated after a snapshot are kept but not counted for it.
with

snapshots as (
    select * from {{ ref('int_snapshot_dates') }}
),

identities as (
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

orders as (
    select converted.* replace (identities.canonical_customer_id as customer_id), snapshots.snapshot_date
    from {{ ref('int_orders_converted') }} as converted
    inner join identities on converted.customer_id = identities.customer_id
    inner join snapshots on converted.order_date <= snapshots.snapshot_date
),

items as (
    select * from {{ ref('int_order_items_triaged') }}
    where outcome = 'accepted'
),

products as (
    select * from {{ ref('int_products_triaged') }}
    where outcome = 'accepted'
),

order_counts as (
    select
        customer_id,
        snapshot_date,
        count(*) as orders_placed,
        count(*) filter (where status = 'cancelled') as cancelled_orders,
        count(*) filter (where status = 'refunded') as refunded_orders
    from orders
    group by customer_id, snapshot_date
),

completed_stats as (
    select
        customer_id,
        snapshot_date,
        count(*) as frequency,
        sum(net_amount_reporting) as monetary,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    where status = 'completed'
    group by customer_id, snapshot_date
),

category_stats as (
    select
        orders.customer_id,
        orders.snapshot_date,
        count(distinct products.category) as category_count
    from orders
    inner join items on orders.order_id = items.order_id
    inner join products on items.product_id = products.product_id
    where orders.status = 'completed'
    group by orders.customer_id, orders.snapshot_date
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
        coalesce(completed_stats.frequency, 0) as frequency,
        coalesce(completed_stats.monetary, 0) as monetary,
        completed_stats.monetary / nullif(completed_stats.frequency, 0) as avg_order_value,
        completed_stats.first_order_date,
        completed_stats.last_order_date,
        date_diff('day', completed_stats.last_order_date, snapshots.snapshot_date) as recency_days,
        date_diff('day', cast(customers.signup_ts as date), snapshots.snapshot_date) as tenure_days,
        category_stats.category_count
    from customers
    cross join snapshots
    left join order_counts
        on customers.customer_id = order_counts.customer_id and snapshots.snapshot_date = order_counts.snapshot_date
    left join completed_stats
        on customers.customer_id = completed_stats.customer_id
        and snapshots.snapshot_date = completed_stats.snapshot_date
    left join category_stats
        on customers.customer_id = category_stats.customer_id
        and snapshots.snapshot_date = category_stats.snapshot_date
),

known_at_snapshot as (
    select * from joined
    where signup_date <= snapshot_date or frequency > 0
)

select * from known_at_snapshot
