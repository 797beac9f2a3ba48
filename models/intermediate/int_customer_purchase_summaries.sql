-- One row per person (canonical id) with a completed purchase on or before the as-of date: the summary the
-- buy-till-you-die models (orchestration/clv.py) are fitted on. Purchases of one day are one transaction; time is in
-- weeks (days / 7); the calibration period is the history up to the as-of date.
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

identities as (
    select * from {{ ref('int_customers_merged') }}
),

purchase_days as (
    -- a person's completed spend per day, over all the ids merged into them
    select identities.canonical_customer_id as customer_id, daily.order_date, sum(daily.completed_amount) as amount
    from {{ ref('int_customer_orders_daily') }} as daily
    inner join identities on daily.customer_id = identities.customer_id
    cross join as_of
    where daily.completed_orders > 0 and daily.order_date <= as_of.as_of_date
    group by identities.canonical_customer_id, daily.order_date
),

summarised as (
    select
        customer_id,
        count(*) - 1 as repeat_transactions,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        -- the first day's spend is not a repeat transaction (Gamma-Gamma models the repeat ones)
        cast((sum(amount) - arg_min(amount, order_date)) / nullif(count(*) - 1, 0) as double) as mean_repeat_value
    from purchase_days
    group by customer_id
),

in_weeks as (
    select
        summarised.customer_id,
        summarised.repeat_transactions,
        date_diff('day', summarised.first_purchase_date, summarised.last_purchase_date) / 7 as recency_weeks,
        date_diff('day', summarised.first_purchase_date, as_of.as_of_date) / 7 as age_weeks,
        summarised.mean_repeat_value,
        summarised.first_purchase_date,
        summarised.last_purchase_date
    from summarised
    cross join as_of
)

select * from in_weeks
