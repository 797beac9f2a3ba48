{{ config(**keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'])) }}

with

staged as (
    select * from {{ ref('stg_landing__feedback') }}
),

batch as (
    -- every version of the keys this run touches (all rows in a full build)
    select * from {{ triage_batch('staged', 'customer_id, survey_ts', parent=(ref('int_customers_triaged'), 'customer_id')) }}
),

checked as (
    {{ reject_orphans('batch', ref('int_customers_triaged'), 'customer_id', 'orphan_feedback') }}
),

triaged as (
    {{ triage_versions('checked', 'customer_id, survey_ts', ref('stg_landing__feedback'), has_updated_at=false) }}
)

select *{{ bucket_column('customer_id, survey_ts') }} from triaged
