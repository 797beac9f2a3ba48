-- One row per person (canonical id) and day with a completed order on or before the as-of date: the transactions of
-- the buy-till-you-die models (orchestration/clv.py), where the purchases of one day are one transaction.
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

identities as (
    select * from {{ ref('int_customers_merged') }}
),

purchase_days as (
    -- a person's completed spend per day, over all the ids merged into them
    select
        identities.canonical_customer_id as customer_id,
        daily.order_date as purchase_date,
        sum(daily.completed_amount) as amount
    from {{ ref('int_customer_orders_daily') }} as daily
    inner join identities on daily.customer_id = identities.customer_id
    cross join as_of
    where daily.completed_orders > 0 and daily.order_date <= as_of.as_of_date
    group by identities.canonical_customer_id, daily.order_date
)

select * from purchase_days
