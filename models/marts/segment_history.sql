-- One row per customer, dimension and segment version over the evaluated dates: the snapshot dates of this run
-- (the as-of date and the month ends before it, recomputed from the landing zone) and the earlier days that runs
-- and backfills evaluated (int_segment_days) up to the as-of date. A version starts at the first evaluation in a
-- segment and ends the day before the next version starts (NULL while current).
{%- set dimensions = history_dimensions() %}
with

recomputed as (
    select segmented.customer_id, segmented.snapshot_date,
        {%- for dimension in dimensions %}
        segmented.{{ dimension }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_customers_segmented') }} as segmented
),

remembered as (
    -- a day recomputed in this run is taken from this run (the landing zone may have changed since)
    select days.customer_id, days.snapshot_date,
        {%- for dimension in dimensions %}
        days.{{ dimension }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_segment_days') }} as days
    where days.snapshot_date < (select as_of_date from {{ ref('int_as_of_date') }})
        and days.snapshot_date not in (select snapshot_date from {{ ref('int_snapshot_dates') }})
),

evaluated as (
    select * from recomputed
    union all
    select * from remembered
),

snapshots as (
    select snapshot_date, row_number() over (order by snapshot_date) as snapshot_index
    from (select snapshot_date from {{ ref('int_snapshot_dates') }} union select snapshot_date from remembered) as dates
),

evaluations as (
    -- each evaluation beside the customer's previous one: one sort per customer for every dimension (an island
    -- per customer, dimension and segment took a sort of the long table, five times the rows)
    select
        segmented.customer_id,
        segmented.snapshot_date,
        snapshots.snapshot_index - lag(snapshots.snapshot_index) over by_customer != 1 as after_gap,
        {%- for dimension in dimensions %}
        segmented.{{ dimension }},
        lag(segmented.{{ dimension }}) over by_customer as previous_{{ dimension }}{{ ',' if not loop.last }}
        {%- endfor %}
    from evaluated as segmented
    inner join snapshots on segmented.snapshot_date = snapshots.snapshot_date
    window by_customer as (partition by segmented.customer_id order by snapshots.snapshot_index)
),

long as (
    select *
    from evaluations
    unpivot include nulls (
        (segment, previous_segment) for dimension in (
            {%- for dimension in dimensions %}
            ({{ dimension }}, previous_{{ dimension }}) as {{ dimension }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
    )
),

versions as (
    -- a version starts where the segment differs from the evaluation before, or after a snapshot without one
    select customer_id, dimension, segment, snapshot_date as valid_from
    from long
    where segment is not null
        and (previous_segment is distinct from segment or coalesce(after_gap, true))
),

history as (
    select
        customer_id,
        dimension,
        segment,
        valid_from,
        cast(lead(valid_from) over (partition by customer_id, dimension order by valid_from) - 1 as date) as valid_to
    from versions
)

select * from history
