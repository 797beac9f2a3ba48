-- One row per category, scope (all customers, or one business segment) and comparison: the category's share of
-- buyers and of spend in the last trend_window_days up to the as-of date against the window before it, and against
-- the same window a year earlier when the data reaches back that far. A change in the share of buyers is flagged
-- when a two-proportion z-test gives |z| >= trend_min_z and both windows together hold at least trend_min_buyers of
-- the category's buyers (DECISIONS.md).
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

segments as (
    select customer_id, business_segment from {{ ref('customer_segments') }}
),

lines as (
    select * from {{ ref('int_order_lines_completed') }} where category is not null
),

windows as (
    -- each window ends on its own date and covers trend_window_days
    select 'now' as window_name, as_of_date as window_end from as_of
    union all
    select 'previous', as_of_date - {{ var('trend_window_days') }} from as_of
    union all
    select 'year_before', cast(as_of_date - interval 1 year as date) from as_of
),

covered as (
    -- a window is compared only when the order lines reach back to its start
    select windows.*
    from windows
    cross join (select min(order_date) as first_date from lines) as reach
    where windows.window_name = 'now' or reach.first_date <= windows.window_end - {{ var('trend_window_days') }}
),

windowed as (
    select windows.window_name, lines.customer_id, lines.category, lines.line_amount
    from lines
    inner join covered as windows
        on lines.order_date > windows.window_end - {{ var('trend_window_days') }}
        and lines.order_date <= windows.window_end
),

scoped as (
    select windowed.*, 'all' as segment from windowed
    union all
    select windowed.*, segments.business_segment
    from windowed
    inner join segments on windowed.customer_id = segments.customer_id
),

totals as (
    -- the denominators: everyone who bought anything in the window and all they spent
    select segment, window_name, count(distinct customer_id) as buyers, sum(line_amount) as spend
    from scoped
    group by segment, window_name
),

per_category as (
    select segment, window_name, category, count(distinct customer_id) as buyers, sum(line_amount) as spend
    from scoped
    group by segment, window_name, category
),

categories as (
    -- every category a scope bought in any window, so a category that vanished shows its fall
    select distinct segment, category from per_category
),

compared as (
    select
        categories.category,
        categories.segment,
        comparison.compared_with,
        now_total.buyers as buyers_total_now,
        before_total.buyers as buyers_total_before,
        coalesce(now_category.buyers, 0) as buyers_now,
        coalesce(before_category.buyers, 0) as buyers_before,
        cast(coalesce(now_category.spend, 0) as double) / nullif(now_total.spend, 0) as spend_share_now,
        cast(coalesce(before_category.spend, 0) as double) / nullif(before_total.spend, 0) as spend_share_before
    from categories
    cross join (values ('previous'), ('year_before')) as comparison(compared_with)
    inner join totals as now_total on categories.segment = now_total.segment and now_total.window_name = 'now'
    inner join totals as before_total
        on categories.segment = before_total.segment and before_total.window_name = comparison.compared_with
    left join per_category as now_category
        on categories.segment = now_category.segment and categories.category = now_category.category
        and now_category.window_name = 'now'
    left join per_category as before_category
        on categories.segment = before_category.segment and categories.category = before_category.category
        and before_category.window_name = comparison.compared_with
),

tested as (
    select
        *,
        buyers_now / buyers_total_now as share_now,
        buyers_before / buyers_total_before as share_before,
        (buyers_now + buyers_before) / (buyers_total_now + buyers_total_before) as pooled_share
    from compared
),

trends as (
    select
        tested.category,
        tested.segment,
        as_of.as_of_date as window_end,
        {{ var('trend_window_days') }} as window_days,
        tested.compared_with,
        tested.buyers_now,
        tested.buyers_before,
        round(tested.share_now, 6) as share_now,
        round(tested.share_before, 6) as share_before,
        round(tested.share_now - tested.share_before, 6) as change,
        round(tested.spend_share_now, 6) as spend_share_now,
        round(tested.spend_share_before, 6) as spend_share_before,
        round(
            (tested.share_now - tested.share_before) / nullif(sqrt(
                tested.pooled_share * (1 - tested.pooled_share)
                * (1.0 / tested.buyers_total_now + 1.0 / tested.buyers_total_before)
            ), 0),
            4
        ) as z,
        coalesce(
            abs(z) >= {{ var('trend_min_z') }}
            and tested.buyers_now + tested.buyers_before >= {{ var('trend_min_buyers') }},
            false
        ) as flagged,
        case when flagged and z > 0 then 'rise' when flagged then 'fall' end as direction
    from tested
    cross join as_of
)

select * from trends
