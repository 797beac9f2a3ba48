-- One row per person and calibration end (the as-of date, and the backtest cut-off clv_backtest_days before it)
-- for everyone with a completed purchase by then: the summary the buy-till-you-die models (orchestration/clv.py)
-- are fitted on, and the purchases that followed it. Time is in weeks (days / 7).
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

calibration_ends as (
    select as_of_date as calibration_end, false as is_backtest from as_of
    union all
    select cast(as_of_date - cast({{ var('clv_backtest_days') }} as integer) as date), true from as_of
),

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

summarised as (
    select
        purchase_days.customer_id,
        calibration_ends.calibration_end,
        calibration_ends.is_backtest,
        count(*) filter (where purchase_days.purchase_date <= calibration_ends.calibration_end) - 1
            as repeat_transactions,
        min(purchase_days.purchase_date) as first_purchase_date,
        max(purchase_days.purchase_date) filter (where purchase_days.purchase_date <= calibration_ends.calibration_end)
            as last_purchase_date,
        -- the first day's spend is not a repeat transaction (Gamma-Gamma models the repeat ones); exact decimal sums,
        -- so that the fit sees the same numbers whatever order the rows are summed in (incremental or full build)
        cast(
            (sum(purchase_days.amount) filter (where purchase_days.purchase_date <= calibration_ends.calibration_end)
                - min_by(purchase_days.amount, purchase_days.purchase_date))
            / nullif(count(*) filter (where purchase_days.purchase_date <= calibration_ends.calibration_end) - 1, 0)
            as double
        ) as mean_repeat_value,
        count(*) filter (where purchase_days.purchase_date > calibration_ends.calibration_end) as later_transactions
    from purchase_days
    cross join calibration_ends
    group by all
    having min(purchase_days.purchase_date) <= calibration_ends.calibration_end
),

in_weeks as (
    select
        customer_id,
        calibration_end,
        is_backtest,
        repeat_transactions,
        {{ dbt.datediff("first_purchase_date", "last_purchase_date", 'day') }} / 7 as recency_weeks,
        {{ dbt.datediff("first_purchase_date", "calibration_end", 'day') }} / 7 as age_weeks,
        mean_repeat_value,
        first_purchase_date,
        last_purchase_date,
        later_transactions
    from summarised
)

select * from in_weeks
