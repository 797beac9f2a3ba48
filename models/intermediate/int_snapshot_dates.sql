-- The dates segments are evaluated at: the as-of date and the month ends of the history window
-- before it. segment_history and customer_tags are built from the evaluations at these dates, so
-- history depends on the landing zone and the as-of date only, never on which runs happened.
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

month_ends as (
    select cast(last_day({{ dbt.dateadd('month', '-months_back', 'as_of.as_of_date') }}) as date) as snapshot_date
    from as_of
    cross join range(1, {{ var('history_months') }} + 1) as t(months_back)
),

snapshots as (
    select as_of_date as snapshot_date, true as is_current from as_of
    union all
    select month_ends.snapshot_date, false as is_current
    from month_ends, as_of
    where month_ends.snapshot_date < as_of.as_of_date
)

select * from snapshots
