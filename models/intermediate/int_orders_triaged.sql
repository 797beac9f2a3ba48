{{ config(**keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'])) }}

with

staged as (
    select * from {{ ref('stg_landing__orders') }}
),

batch as (
    -- every version of the keys this run touches (all rows in a full build)
    select * from {{ triage_batch('staged', 'order_id', parent=(ref('int_customers_triaged'), 'customer_id')) }}
),

known_currencies as (
    select distinct currency from {{ ref('fx_rates') }}
),

known_customers as (
    select customer_id from {{ ref('int_customers_triaged') }}
    where outcome = 'accepted'
),

checked as (
    select
        {{ star_except(['reject_reason'], 'staged') }},
        case
            when staged.reject_reason is not null then staged.reject_reason
            when known_currencies.currency is null then 'unknown_currency'
            when known_customers.customer_id is null then 'orphan_order'
        end as reject_reason
    from batch as staged
    left join known_currencies on staged.currency = known_currencies.currency
    left join known_customers on staged.customer_id = known_customers.customer_id
),

triaged as (
    {{ triage_versions('checked', 'order_id', ref('stg_landing__orders')) }}
)

select *{{ bucket_column('order_id') }} from triaged
