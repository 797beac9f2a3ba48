-- Every dimension besides RFM, per person and snapshot date: demographic, geographic,
-- psychographic, social, firmographic, purchase timing, browsing, satisfaction and acquisition.
-- Optional inputs that are missing leave their columns NULL.
with

snapshots as (
    select * from {{ ref('int_snapshot_dates') }}
),

-- tables read more than once are scanned again rather than copied (DuckDB copies a CTE that is read twice, and
-- at 100M orders the copy of the features, 70M rows, spilled gigabytes)
features as {{ inline_cte() }} (
    select * from {{ ref('int_customer_features') }}
),

customers as {{ inline_cte() }} (
    select * from {{ ref('int_customers_standardised') }}
),

identities as {{ inline_cte() }} (
    select * from {{ ref('int_customers_merged') }}
),

events as (
    -- each day's browsing once, in the first snapshot that counts it; a snapshot sums its own and earlier ones
    select * from {{ at_first_snapshot(ref('int_customer_events_daily'), 'event_date') }}
),

surveys as (
    select
        {{ star_except(['customer_id'], 'feedback') }},
        identities.canonical_customer_id as customer_id,
        snapshots.snapshot_date
    from {{ ref('int_feedback_triaged') }} as feedback
    inner join identities on feedback.customer_id = identities.customer_id
    inner join snapshots on cast(feedback.survey_ts as date) <= snapshots.snapshot_date
    where feedback.outcome = 'accepted'
),

city_tiers as (
    select * from {{ ref('city_tiers') }}
),

cac as (
    select * from {{ ref('int_channels_costed') }}
),

orders_daily as (
    -- each day's completed orders once, in the first snapshot that counts them (int_customer_orders_daily)
    select * from {{ at_first_snapshot(ref('int_customer_orders_daily'), 'order_date') }}
    where completed_orders > 0
),

category_spend as (
    select per_snapshot.customer_id, snapshots.snapshot_date, per_snapshot.category, sum(per_snapshot.spend) as spend
    from (
        select customer_id, first_snapshot_date, category, sum(spend) as spend
        from {{ at_first_snapshot(ref('int_customer_categories_daily'), 'order_date') }}
        group by all
    ) as per_snapshot
    inner join snapshots on per_snapshot.first_snapshot_date <= snapshots.snapshot_date
    group by all
),

category_order as (
    select category, dense_rank() over (order by category) as category_rank
    from (select distinct category from category_spend)
),

categories as (
    -- the category with the most spend, a tie going to the last name alphabetically, never to chance; compared
    -- as one number (spend in cents, then the name's rank), which is 5x faster than comparing (spend, name)
    select
        category_spend.customer_id,
        category_spend.snapshot_date,
        max_by(
            category_spend.category,
            {{ spend_then_rank('category_spend.spend', 'category_order.category_rank', 'category_order') }}
        ) as top_category
    from category_spend
    inner join category_order on category_spend.category = category_order.category
    group by category_spend.customer_id, category_spend.snapshot_date
),

affinities as (
    -- each category's share of the customer's spend, as JSON {category: share}; customer_segments publishes it at
    -- the as-of date, and no rule may read it, so it is built there only (at every date it cost a third of this model)
    select
        customer_id,
        snapshot_date,
        {{ json_object_agg('category', 'round(cast(spend as double) / nullif(cast(total_spend as double), 0), 3)') }}
            as category_affinity
    from (
        select category_spend.*, sum(category_spend.spend) over (partition by category_spend.customer_id) as total_spend
        from category_spend
        inner join snapshots on category_spend.snapshot_date = snapshots.snapshot_date
        where snapshots.is_current
    )
    group by customer_id, snapshot_date
),

timing as (
    -- purchase timing per snapshot, and the most frequent band (a tie goes to the earliest band of the day)
    select
        *,
        case
            when night_orders >= greatest(morning_orders, afternoon_orders, evening_orders) then 'night'
            when morning_orders >= greatest(afternoon_orders, evening_orders) then 'morning'
            when afternoon_orders >= evening_orders then 'afternoon'
            else 'evening'
        end as preferred_hour_band
    from (
        select
            per_snapshot.customer_id,
            snapshots.snapshot_date,
            coalesce(cast(sum(per_snapshot.holiday_amount) as double) / nullif(sum(per_snapshot.completed_amount), 0), 0)
                as holiday_spend_share,
            cast(sum(per_snapshot.weekend_orders) as bigint) / cast(sum(per_snapshot.completed_orders) as bigint)
                as weekend_order_share,
            sum(per_snapshot.night_orders) as night_orders,
            sum(per_snapshot.morning_orders) as morning_orders,
            sum(per_snapshot.afternoon_orders) as afternoon_orders,
            sum(per_snapshot.evening_orders) as evening_orders
        from (
            select
                customer_id,
                first_snapshot_date,
                sum(holiday_amount) as holiday_amount,
                sum(completed_amount) as completed_amount,
                sum(weekend_orders) as weekend_orders,
                sum(completed_orders) as completed_orders,
                sum(night_orders) as night_orders,
                sum(morning_orders) as morning_orders,
                sum(afternoon_orders) as afternoon_orders,
                sum(evening_orders) as evening_orders
            from orders_daily
            group by customer_id, first_snapshot_date
        ) as per_snapshot
        inner join snapshots on per_snapshot.first_snapshot_date <= snapshots.snapshot_date
        group by per_snapshot.customer_id, snapshots.snapshot_date
    )
),

browsing_per_first_snapshot as (
    select
        customer_id,
        first_snapshot_date,
        sum(page_views) as page_views,
        sum(clicks) as clicks,
        sum(add_to_carts) as add_to_carts,
        sum(dwell_seconds) as dwell_seconds,
        sum(dwell_events) as dwell_events,
        max(event_date) as last_visit_date
    from events
    group by customer_id, first_snapshot_date
),

session_starts as (
    -- a session counts from the first snapshot that sees any of its events
    select customer_id, first_snapshot_date, count(*) as sessions
    from (
        select customer_id, min(first_snapshot_date) as first_snapshot_date
        from {{ at_first_snapshot(ref('int_customer_sessions'), 'first_event_date') }}
        group by customer_id, session_id
    )
    group by customer_id, first_snapshot_date
),

browsing_totals as (
    select
        per_snapshot.customer_id,
        snapshots.snapshot_date,
        cast(sum(per_snapshot.page_views) as bigint) as page_views,
        cast(sum(per_snapshot.clicks) as bigint) as clicks,
        cast(sum(per_snapshot.add_to_carts) as bigint) as add_to_carts,
        sum(per_snapshot.dwell_seconds) as dwell_seconds,
        cast(sum(per_snapshot.dwell_events) as bigint) as dwell_events,
        max(per_snapshot.last_visit_date) as last_visit_date
    from browsing_per_first_snapshot as per_snapshot
    inner join snapshots on per_snapshot.first_snapshot_date <= snapshots.snapshot_date
    group by per_snapshot.customer_id, snapshots.snapshot_date
),

session_totals as (
    select starts.customer_id, snapshots.snapshot_date, cast(sum(starts.sessions) as bigint) as sessions
    from session_starts as starts
    inner join snapshots on starts.first_snapshot_date <= snapshots.snapshot_date
    group by starts.customer_id, snapshots.snapshot_date
),

browsing as (
    select
        totals.customer_id,
        totals.snapshot_date,
        coalesce(session_totals.sessions, 0) as sessions,
        totals.page_views,
        -- the mean rounded half up to 0.1 s in exact integer arithmetic on hundredths (dwell is
        -- decimal(18, 2) and never negative), as avg() would round it, without binary fractions
        {{ integer_divide('cast(totals.dwell_seconds * 100 as ' ~ wide_integer() ~ ') * 2 + 10 * totals.dwell_events',
                          'nullif(20 * totals.dwell_events, 0)') }} / 10 as avg_dwell_seconds,
        totals.clicks / nullif(totals.page_views, 0) as click_through_rate,
        totals.add_to_carts / nullif(totals.page_views, 0) as add_to_cart_rate,
        cast({{ dbt.datediff("totals.last_visit_date", "totals.snapshot_date", 'day') }} as bigint)
            as days_since_last_visit
    from browsing_totals as totals
    left join session_totals
        on totals.customer_id = session_totals.customer_id and totals.snapshot_date = session_totals.snapshot_date
),

browsed_categories as (
    -- the most viewed category; a tie goes to the first name alphabetically, never to chance
    select customer_id, snapshot_date, {{ min_by('page_category', ['-views', 'page_category']) }} as top_browsed_category
    from (
        select category_views.customer_id, snapshots.snapshot_date, category_views.page_category,
            sum(category_views.views) as views
        from (
            select customer_id, first_snapshot_date, page_category, sum(events) as views
            from events
            where page_category is not null
            group by all
        ) as category_views
        inner join snapshots on category_views.first_snapshot_date <= snapshots.snapshot_date
        group by all
    )
    group by customer_id, snapshot_date
),

satisfaction as (
    select
        customer_id,
        snapshot_date,
        -- the latest answered survey; at the same time the higher score, never chance
        max_by(nps_score, {{ ordering(['survey_ts', 'nps_score']) }}) filter (where nps_score is not null) as latest_nps,
        max_by(csat_score, {{ ordering(['survey_ts', 'csat_score']) }}) filter (where csat_score is not null)
            as latest_csat
    from surveys
    group by customer_id, snapshot_date
),

referrals as (
    -- referred customers known at the snapshot, and what they have spent by then
    select
        referrer.canonical_customer_id as customer_id,
        features.snapshot_date,
        count(distinct referred.customer_id) as referrals_made,
        sum(features.monetary) as referral_revenue
    from customers as referred
    inner join identities as referrer on referred.referred_by = referrer.customer_id
    inner join features on referred.customer_id = features.customer_id
    group by referrer.canonical_customer_id, features.snapshot_date
),

buyer_average as (
    select snapshot_date, avg(cast(monetary as double)) as average_monetary
    from features where frequency > 0
    group by snapshot_date
),

joined as (
    select
        features.customer_id,
        features.snapshot_date,
        -- demographic
        -- whole numbers of one type on both engines (DuckDB's date parts are bigint, Spark's int)
        cast(year(features.snapshot_date) - year(customers.birth_date)
            - case when month(features.snapshot_date) * 100 + dayofmonth(features.snapshot_date)
                < month(customers.birth_date) * 100 + dayofmonth(customers.birth_date) then 1 else 0 end
            as bigint) as age,
        customers.gender,
        customers.occupation,
        customers.income_band,
        -- geographic
        customers.country_code,
        customers.province,
        customers.city,
        case
            when city_tiers.region_group is not null then city_tiers.region_group
            when customers.country_code is not null and customers.country_code != 'CN' then 'international'
        end as region_group,
        case
            when city_tiers.city_tier is not null then city_tiers.city_tier
            when customers.country_code = 'CN' and customers.city is not null then 'other'
        end as city_tier,
        -- psychographic
        customers.interests,
        categories.top_category,
        affinities.category_affinity,
        browsed_categories.top_browsed_category,
        -- social
        coalesce(referrals.referrals_made, 0) as referrals_made,
        coalesce(referrals.referral_revenue, 0) as referral_revenue,
        round(
            coalesce(referrals.referrals_made, 0)
            + cast(coalesce(referrals.referral_revenue, 0) as double) / nullif(buyer_average.average_monetary, 0),
            2
        ) as influence_score,
        -- firmographic (B2B only)
        case
            when features.customer_type != 'B2B' then null
            when customers.employee_count >= {{ var('b2b_large_min_employees') }}
                or customers.annual_revenue >= {{ var('b2b_large_min_revenue') }} then 'large'
            when customers.employee_count >= {{ var('b2b_mid_min_employees') }}
                or customers.annual_revenue >= {{ var('b2b_mid_min_revenue') }} then 'mid'
            when customers.employee_count is not null or customers.annual_revenue is not null then 'small'
        end as company_size_tier,
        case when features.customer_type = 'B2B' then customers.industry end as industry,
        -- purchase timing
        timing.holiday_spend_share,
        timing.weekend_order_share,
        timing.preferred_hour_band,
        -- browsing
        browsing.sessions,
        browsing.page_views,
        browsing.avg_dwell_seconds,
        browsing.click_through_rate,
        browsing.add_to_cart_rate,
        browsing.days_since_last_visit,
        -- satisfaction
        satisfaction.latest_nps,
        satisfaction.latest_csat,
        case
            when satisfaction.latest_nps >= 9 then 'promoter'
            when satisfaction.latest_nps >= 7 then 'passive'
            when satisfaction.latest_nps >= 0 then 'detractor'
        end as nps_class,
        -- acquisition
        coalesce(cac.cac, {{ var('clv_default_cac') }}) as channel_cac
    from features
    inner join customers on features.customer_id = customers.customer_id
    left join buyer_average on features.snapshot_date = buyer_average.snapshot_date
    left join city_tiers on customers.city = city_tiers.city
    left join categories
        on features.customer_id = categories.customer_id and features.snapshot_date = categories.snapshot_date
    left join affinities
        on features.customer_id = affinities.customer_id and features.snapshot_date = affinities.snapshot_date
    left join timing on features.customer_id = timing.customer_id and features.snapshot_date = timing.snapshot_date
    left join browsing
        on features.customer_id = browsing.customer_id and features.snapshot_date = browsing.snapshot_date
    left join browsed_categories
        on features.customer_id = browsed_categories.customer_id
        and features.snapshot_date = browsed_categories.snapshot_date
    left join satisfaction
        on features.customer_id = satisfaction.customer_id and features.snapshot_date = satisfaction.snapshot_date
    left join referrals
        on features.customer_id = referrals.customer_id and features.snapshot_date = referrals.snapshot_date
    left join cac on features.acquisition_channel = cac.channel
),

banded as (
    select
        *,
        case
            {%- set edges = var('age_band_edges') %}
            when age is null then null
            when age < {{ edges[0] }} then '<{{ edges[0] }}'
            {%- for low in edges[:-1] %}
            when age < {{ edges[loop.index] }} then '{{ low }}-{{ edges[loop.index] - 1 }}'
            {%- endfor %}
            else '{{ edges[-1] }}+'
        end as age_band
    from joined
)

select * from banded
