with

source as (
    select * from {{ source('raw', 'products') }}{{ only_new_loads() }}
),

typed as (
    select
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('product_name') }} as product_name,
        coalesce({{ normalise_code('category') }}, 'uncategorised') as category,
        {{ normalise_code('subcategory') }} as subcategory,
        {{ clean_text('brand') }} as brand,
        {{ landing_metadata() }}
    from source
),

flagged as (
    select
        *,
        case when product_id is null then 'missing_product_id' end as reject_reason
    from typed
)

select * from flagged
