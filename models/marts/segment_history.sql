-- Versioned segment membership arrives with the multi-dimensional classification issue;
-- until then the table exists with its contract columns and no rows.
with

customers as (
    select * from {{ ref('customer_segments') }}
),

history as (
    select
        customer_id,
        cast(null as varchar) as dimension,
        cast(null as varchar) as segment,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to
    from customers
    where false
)

select * from history
