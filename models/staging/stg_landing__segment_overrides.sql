-- Appeals and manual overrides as landed: one row per data row, typed, with reject_reason set when the row cannot
-- be an override at all. Whether its customer, dimension and segment exist is judged at the as-of date
-- (override_log), not here.
with

source as (
    select * from {{ source('raw', 'segment_overrides') }}{{ only_new_loads() }}
),

typed as (
    select
        {{ clean_text('customer_id') }} as customer_id,
        lower({{ clean_text('dimension') }}) as dimension,
        {{ clean_text('segment') }} as segment,
        {{ clean_text('reason') }} as reason,
        {{ clean_text('requested_by') }} as requested_by,
        {{ parse_date('valid_from') }} as valid_from,
        {{ parse_date('expires_at') }} as expires_at,
        {{ is_unparseable('valid_from', parse_date('valid_from')) }}
            or {{ is_unparseable('expires_at', parse_date('expires_at')) }} as has_bad_date,
        {{ landing_metadata() }}
    from source
),

flagged as (
    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when dimension is null then 'missing_dimension'
            when segment is null then 'missing_segment'
            when has_bad_date then 'unparseable_date'
            when valid_from is null then 'missing_valid_from'
            when expires_at <= valid_from then 'expires_before_valid_from'
        end as reject_reason
    from typed
)

select {{ star_except(['has_bad_date']) }} from flagged
