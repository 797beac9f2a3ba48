with

customers as (
    select * from {{ ref('customer_segments') }}
),

labels as (
    select * from {{ ref('segment_labels') }}
),

long as (
    unpivot customers
    on value_tier, frequency_group, lifecycle_stage, business_segment, rfm_segment, fm_quadrant
    into name dimension value segment
),

aggregated as (
    select
        dimension,
        segment,
        count(*) as customers,
        sum(monetary) as revenue,
        avg(clv) as avg_clv
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
        cast(round(aggregated.avg_clv, 2) as decimal(18, 2)) as avg_clv,
        aggregated.customers / sum(aggregated.customers) over (partition by aggregated.dimension)
            as share_of_customers,
        coalesce(
            aggregated.revenue / nullif(sum(aggregated.revenue) over (partition by aggregated.dimension), 0),
            0
        ) as share_of_revenue,
        (select max(as_of_date) from customers) as as_of_date
    from aggregated
    left join labels
        on aggregated.dimension = labels.dimension and aggregated.segment = labels.segment
)

select * from shared
