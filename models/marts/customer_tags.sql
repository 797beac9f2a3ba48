-- One row per customer and tag version: a tag opens at the first evaluation where its rule holds,
-- is closed when a later evaluation finds it no longer holds, and lapses expires_after_days after
-- its last confirmation. Evaluations are the snapshot dates, so the table is rebuilt the same way
-- from the same landing zone and as-of date.
with

snapshots as (
    select snapshot_date, is_current, row_number() over (order by snapshot_date) as snapshot_index
    from {{ ref('int_snapshot_dates') }}
),

evaluated as (
    select evaluated.*, snapshots.snapshot_index
    from {{ ref('int_customer_tags_evaluated') }} as evaluated
    inner join snapshots on evaluated.snapshot_date = snapshots.snapshot_date
),

islands as (
    -- consecutive snapshots holding the same tag form one version
    select
        *,
        snapshot_index - row_number() over (partition by customer_id, tag order by snapshot_index) as island
    from evaluated
),

versions as (
    select
        customer_id,
        tag,
        any_value(tag_type) as tag_type,
        any_value(expires_after_days) as expires_after_days,
        min(snapshot_date) as valid_from,
        max(snapshot_date) as last_confirmed,
        max(snapshot_index) as last_index
    from islands
    group by customer_id, tag, island
),

dated as (
    select
        versions.*,
        next_snapshot.snapshot_date as next_evaluation,
        versions.last_confirmed + versions.expires_after_days as expiry_date
    from versions
    left join snapshots as next_snapshot on next_snapshot.snapshot_index = versions.last_index + 1
),

published as (
    select
        customer_id,
        tag,
        tag_type,
        valid_from,
        cast(case
            when next_evaluation is null then expiry_date
            else least(expiry_date, next_evaluation - 1)
        end as date) as valid_to,
        last_confirmed,
        case
            when next_evaluation is null then 'active'
            when expiry_date < next_evaluation then 'expired'
            else 'closed'
        end as tag_status
    from dated
)

select * from published
