-- Every accepted customer id with the id of the person it was merged into (itself when not merged)
-- and the key that matched; the matched values are not published (the warehouse holds only their pseudonyms).
with

merged as (
    select * from {{ ref('int_customers_merged') }}
),

published as (
    select
        customer_id,
        canonical_customer_id,
        is_merged,
        matched_on
    from merged
)

select * from published
