{{ config(**keyed_incremental(unique_key='customer_id')) }}

-- What each landed customer id did on the website per event date (UTC) and page category (NULL: no category):
-- browsing, click-through, add-to-cart rates, dwell time, the last visit and the most browsed category are sums
-- of these rows. An incremental run recomputes only the customers whose events were re-triaged in it; a
-- customer left without accepted events keeps one row with a NULL event_date (the same rows as a full build).
with

triaged as (
    select {{ keyed_star() }} from {{ ref('int_web_events_triaged') }}
),

affected as (
    {{ touched_customers('triaged') }}
),

events as (
    select *, cast(event_ts as date) as event_date
    from triaged
    where outcome = 'accepted' and customer_id in (select customer_id from affected)
),

daily as (
    select
        customer_id,
        event_date,
        page_category,
        count(*) as events,
        count(*) filter (where event_type = 'page_view') as page_views,
        count(*) filter (where event_type = 'click') as clicks,
        count(*) filter (where event_type = 'add_to_cart') as add_to_carts,
        coalesce(sum(dwell_seconds), 0) as dwell_seconds,
        count(dwell_seconds) as dwell_events
    from events
    group by customer_id, event_date, page_category
),

with_empty as (
    select
        affected.customer_id,
        daily.event_date,
        daily.page_category,
        coalesce(daily.events, 0) as events,
        coalesce(daily.page_views, 0) as page_views,
        coalesce(daily.clicks, 0) as clicks,
        coalesce(daily.add_to_carts, 0) as add_to_carts,
        coalesce(daily.dwell_seconds, 0) as dwell_seconds,
        coalesce(daily.dwell_events, 0) as dwell_events,
        {{ load_batch() }} as _batch
    from affected
    left join daily on affected.customer_id = daily.customer_id
)

select *{{ bucket_column('customer_id') }} from with_empty
