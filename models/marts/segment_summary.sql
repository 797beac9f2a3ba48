-- One row per segment dimension and segment: customers, revenue, their shares within the dimension.
{%- set dimensions = ['value_tier', 'frequency_group', 'lifecycle_stage', 'rfm_segment', 'fm_quadrant',
                      'coarse_segment', 'fine_segment'] + var('segment_rules').dimensions | map(attribute='name') | list %}
with

customers as (
    select * from {{ ref('customer_segments') }}
),

labels as (
    select dimension, segment, label_en, label_zh from {{ ref('segment_labels') }}
    union all
    select dimension, segment, label_en, label_zh from {{ ref('int_segment_rules') }}
),

long as (
    select *
    from (select customer_id, monetary, clv, as_of_date, {{ dimensions | join(', ') }} from customers) as wide
    unpivot (segment for dimension in ({{ dimensions | join(', ') }}))
),

aggregated as (
    select
        dimension,
        segment,
        count(*) as customers,
        sum(monetary) as revenue,
        avg(cast(clv as double)) as avg_clv,
        max(as_of_date) as as_of_date
    from long
    group by dimension, segment
),

shared as (
    select
        aggregated.dimension,
        aggregated.segment,
        labels.label_en,
        labels.label_zh,
        aggregated.customers,
        cast(aggregated.revenue as decimal(18, 2)) as revenue,
        {{ money('aggregated.avg_clv') }} as avg_clv,
        aggregated.customers / sum(aggregated.customers) over (partition by aggregated.dimension)
            as share_of_customers,
        coalesce(
            cast(aggregated.revenue as double) / nullif(sum(aggregated.revenue) over (partition by aggregated.dimension), 0),
            0
        ) as share_of_revenue,
        aggregated.as_of_date
    from aggregated
    left join labels
        on aggregated.dimension = labels.dimension and aggregated.segment = labels.segment
)

select * from shared
