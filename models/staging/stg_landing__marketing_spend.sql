with

source as (
    select * from {{ source('raw', 'marketing_spend') }}{{ only_new_loads() }}
),

typed as (
    select
        {{ parse_date('spend_date') }} as spend_date,
        {{ normalise_code('channel') }} as channel,
        {{ parse_decimal('spend') }} as spend,
        coalesce(upper({{ clean_text('currency') }}), 'CNY') as currency,
        {{ is_unparseable('spend_date', parse_date('spend_date')) }} as has_bad_date,
        {{ is_unparseable('spend', parse_decimal('spend')) }} as has_bad_number,
        {{ landing_metadata() }}
    from source
),

flagged as (
    select
        *,
        case
            when has_bad_date then 'unparseable_date'
            when spend_date is null then 'missing_spend_date'
            when channel is null then 'missing_channel'
            when has_bad_number then 'unparseable_number'
            when spend is null then 'missing_amount'
            when spend < 0 then 'negative_amount'
        end as reject_reason
    from typed
)

select {{ star_except(['has_bad_date', 'has_bad_number']) }} from flagged
