with

source as (
    select * from {{ source('raw', 'orders') }}{{ only_new_loads() }}
),

typed as (
    select
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ parse_timestamp('order_ts') }} as order_ts,
        {{ normalise_code('status') }} as status,
        upper({{ clean_text('currency') }}) as currency,
        {{ parse_decimal('total_amount') }} as total_amount,
        coalesce({{ parse_decimal('discount_amount') }}, 0) as discount_amount,
        {{ normalise_code('channel') }} as channel,
        {{ parse_timestamp('updated_at') }} as updated_at,
        {{ is_unparseable('order_ts', parse_timestamp('order_ts')) }}
            or {{ is_unparseable('updated_at', parse_timestamp('updated_at')) }} as has_bad_timestamp,
        {{ is_unparseable('total_amount', parse_decimal('total_amount')) }}
            or {{ is_unparseable('discount_amount', parse_decimal('discount_amount')) }} as has_bad_number,
        {{ landing_metadata() }}
    from source
),

flagged as (
    select
        *,
        case
            when order_id is null then 'missing_order_id'
            when customer_id is null then 'missing_customer_id'
            when has_bad_timestamp then 'unparseable_timestamp'
            when order_ts is null then 'missing_order_ts'
            when has_bad_number then 'unparseable_number'
            when total_amount is null then 'missing_amount'
            when total_amount < 0 or discount_amount < 0 then 'negative_amount'
            when discount_amount > total_amount then 'discount_exceeds_total'
            when status is null or status not in ('completed', 'cancelled', 'refunded', 'pending')
                then 'invalid_status'
            when currency is null then 'unknown_currency'
            when order_ts > _loaded_at or updated_at > _loaded_at then 'future_timestamp'
        end as reject_reason
    from typed
)

select {{ star_except(['has_bad_timestamp', 'has_bad_number']) }} from flagged
