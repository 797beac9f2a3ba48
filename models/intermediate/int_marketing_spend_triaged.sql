{{ config(**keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'])) }}

with

staged as (
    select * from {{ ref('stg_landing__marketing_spend') }}
),

batch as (
    -- every version of the keys this run touches (all rows in a full build)
    select * from {{ triage_batch('staged', 'spend_date, channel') }}
),

known_currencies as (
    select distinct currency from {{ ref('fx_rates') }}
),

checked as (
    select
        {{ star_except(['reject_reason'], 'staged') }},
        case
            when staged.reject_reason is not null then staged.reject_reason
            when known_currencies.currency is null then 'unknown_currency'
        end as reject_reason
    from batch as staged
    left join known_currencies on staged.currency = known_currencies.currency
),

triaged as (
    {{ triage_versions('checked', 'spend_date, channel', ref('stg_landing__marketing_spend'), has_updated_at=false) }}
)

select *{{ bucket_column('spend_date, channel') }} from triaged
