-- One row per dimension, period between consecutive evaluation dates (int_snapshot_dates) and from -> to pair: how
-- many customers moved (or stayed) and what they spent in the period. from_segment is NULL for customers not yet
-- known at the period's start.
{%- set dimensions = history_dimensions() %}
with

snapshots as (
    select
        snapshot_date as period_end,
        lag(snapshot_date) over (order by snapshot_date) as period_start
    from {{ ref('int_snapshot_dates') }}
),

evaluations as (
    select
        segmented.customer_id,
        snapshots.period_start,
        snapshots.period_end,
        coalesce(segmented.monetary, 0) - coalesce(lag(segmented.monetary) over by_customer, 0) as revenue,
        lag(segmented.snapshot_date) over by_customer = snapshots.period_start as known_at_start,
        {%- for dimension in dimensions %}
        segmented.{{ dimension }},
        lag(segmented.{{ dimension }}) over by_customer as previous_{{ dimension }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_customers_segmented') }} as segmented
    inner join snapshots on segmented.snapshot_date = snapshots.period_end
    window by_customer as (partition by segmented.customer_id order by segmented.snapshot_date)
),

periods as (
    -- the first evaluation date starts no period
    select * from evaluations where period_start is not null
),

long as (
    select *
    from periods
    unpivot include nulls (
        (to_segment, from_segment) for dimension in (
            {%- for dimension in dimensions %}
            ({{ dimension }}, previous_{{ dimension }}) as {{ dimension }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
    )
),

transitions as (
    select
        dimension,
        period_start,
        period_end,
        case when coalesce(known_at_start, false) then from_segment end as from_segment,
        to_segment,
        count(*) as customers,
        cast(sum(revenue) as decimal(18, 2)) as revenue
    from long
    where to_segment is not null
    group by all
)

select * from transitions
