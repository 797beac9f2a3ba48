-- One row per dimension, segment and period between consecutive evaluation dates: how the customers who were in the
-- segment at the period's start did by its end - revenue, orders, average order value, repurchase and retention,
-- migration to another segment (up or down where the dimension has an order), and their average NPS and CSAT.
{%- set dimensions = history_dimensions() %}
{%- set ranked = {'value_tier': ['low', 'mid', 'high'], 'frequency_group': ['one_time', 'low', 'high']} %}
with

snapshots as (
    select
        snapshot_date as period_end,
        lag(snapshot_date) over (order by snapshot_date) as period_start
    from {{ ref('int_snapshot_dates') }}
),

evaluations as (
    -- each customer at a period's end beside the same customer at its start
    select
        starting.customer_id,
        snapshots.period_start,
        snapshots.period_end,
        coalesce(ending.monetary, 0) - coalesce(starting.monetary, 0) as revenue,
        coalesce(ending.frequency, 0) - coalesce(starting.frequency, 0) as orders,
        ending.recency_days as recency_days_at_end,
        ending.latest_nps,
        ending.latest_csat,
        {%- for dimension in dimensions %}
        starting.{{ dimension }} as start_{{ dimension }},
        ending.{{ dimension }} as end_{{ dimension }}{{ ',' if not loop.last }}
        {%- endfor %}
    from snapshots
    inner join {{ ref('int_customers_segmented') }} as starting on starting.snapshot_date = snapshots.period_start
    left join {{ ref('int_customers_segmented') }} as ending
        on ending.snapshot_date = snapshots.period_end and starting.customer_id = ending.customer_id
),

long as (
    select *
    from evaluations
    unpivot include nulls (
        (segment, segment_at_end) for dimension in (
            {%- for dimension in dimensions %}
            (start_{{ dimension }}, end_{{ dimension }}) as {{ dimension }}{{ ',' if not loop.last }}
            {%- endfor %}
        )
    )
),

ranked as (
    select
        *,
        case dimension
            {%- for dimension, order in ranked.items() %}
            when '{{ dimension }}' then {{ position_in('segment_at_end', order) }} - {{ position_in('segment', order) }}
            {%- endfor %}
        end as steps
    from long
    where segment is not null
),

kpis as (
    select
        dimension,
        segment,
        period_start,
        period_end,
        count(*) as customers,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        -- a count: bigint on both engines (DuckDB sums bigints to a hugeint, which Parquet publishes as a double)
        cast(sum(orders) as bigint) as orders,
        {{ money('cast(sum(revenue) as double) / nullif(sum(orders), 0)') }} as avg_order_value,
        round(avg(case when orders > 0 then 1 else 0 end), 4) as repurchase_rate,
        round(avg(case when recency_days_at_end <= {{ var('kpi_retention_days') }} then 1 else 0 end), 4)
            as retention_rate,
        round(avg(case when segment_at_end is distinct from segment then 1 else 0 end), 4) as moved_rate,
        round(avg(case when steps > 0 then 1 when steps is not null then 0 end), 4) as moved_up_rate,
        round(avg(case when steps < 0 then 1 when steps is not null then 0 end), 4) as moved_down_rate,
        round(avg(latest_nps), 2) as avg_nps,
        round(avg(latest_csat), 2) as avg_csat
    from ranked
    group by dimension, segment, period_start, period_end
)

select * from kpis
