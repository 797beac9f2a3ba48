with

source as (
    select * from {{ source('raw', 'order_items') }}{{ only_new_loads() }}
),

typed as (
    select
        {{ clean_text('order_id') }} as order_id,
        {{ parse_integer('line_no') }} as line_no,
        {{ clean_text('product_id') }} as product_id,
        {{ parse_integer('quantity') }} as quantity,
        {{ parse_decimal('unit_price') }} as unit_price,
        {{ is_unparseable('line_no', parse_integer('line_no')) }}
            or {{ is_unparseable('quantity', parse_integer('quantity')) }}
            or {{ is_unparseable('unit_price', parse_decimal('unit_price')) }} as has_bad_number,
        {{ landing_metadata() }}
    from source
),

flagged as (
    select
        *,
        case
            when order_id is null then 'missing_order_id'
            when has_bad_number then 'unparseable_number'
            when line_no is null then 'missing_line_no'
            when quantity is null or quantity <= 0 then 'non_positive_quantity'
            when unit_price < 0 then 'negative_amount'
        end as reject_reason
    from typed
)

select {{ star_except(['has_bad_number']) }} from flagged
