with

source as (
    select * from {{ source('raw', 'web_events') }}{{ only_new_loads() }}
),

typed as (
    select
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('session_id') }} as session_id,
        {{ parse_timestamp('event_ts') }} as event_ts,
        {{ normalise_code('event_type') }} as event_type,
        {{ normalise_code('page_category') }} as page_category,
        {{ parse_decimal('dwell_seconds') }} as dwell_seconds,
        {{ is_unparseable('event_ts', parse_timestamp('event_ts')) }} as has_bad_timestamp,
        {{ is_unparseable('dwell_seconds', parse_decimal('dwell_seconds')) }} as has_bad_number,
        {{ landing_metadata() }}
    from source
),

flagged as (
    select
        *,
        case
            when event_id is null then 'missing_event_id'
            when has_bad_timestamp then 'unparseable_timestamp'
            when event_ts is null then 'missing_event_ts'
            when has_bad_number then 'unparseable_number'
            when dwell_seconds < 0 then 'negative_amount'
            when event_type is null or event_type not in ('page_view', 'click', 'add_to_cart', 'search')
                then 'invalid_event_type'
            when event_ts > _loaded_at then 'future_timestamp'
        end as reject_reason
    from typed
)

select {{ star_except(['has_bad_timestamp', 'has_bad_number']) }} from flagged
