-- One row per customer, dimension and segment version over the snapshot dates: a version starts at
-- the first evaluation in a segment and ends the day before the next version starts (NULL while
-- current). Rebuilt from the landing zone and the as-of date alone.
{%- set dimensions = ['lifecycle_stage', 'value_tier', 'frequency_group', 'rfm_segment']
    + var('segment_rules').dimensions | map(attribute='name') | list %}
with

snapshots as (
    select snapshot_date, row_number() over (order by snapshot_date) as snapshot_index
    from {{ ref('int_snapshot_dates') }}
),

long as (
    unpivot (
        select customer_id, segmented.snapshot_date, snapshots.snapshot_index, {{ dimensions | join(', ') }}
        from {{ ref('int_customers_segmented') }} as segmented
        inner join snapshots on segmented.snapshot_date = snapshots.snapshot_date
    )
    on {{ dimensions | join(', ') }}
    into name dimension value segment
),

islands as (
    select
        *,
        snapshot_index - row_number() over (
            partition by customer_id, dimension, segment order by snapshot_index
        ) as island
    from long
),

versions as (
    select customer_id, dimension, segment, min(snapshot_date) as valid_from
    from islands
    group by customer_id, dimension, segment, island
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
