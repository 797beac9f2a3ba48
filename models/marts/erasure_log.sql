-- One row per customer erased by `segments forget`: the keyed hash of the id, when, and which tables
-- held rows; no personal data.
with

erasures as (
    select * from {{ source('raw', 'erasures') }}
),

logged as (
    select
        customer_hash,
        erased_at,
        tables,
        rows_removed
    from erasures
)

select * from logged
