{{ config(**keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'])) }}

with

staged as (
    select * from {{ ref('stg_landing__customers') }}
),

batch as (
    -- every version of the keys this run touches (all rows in a full build)
    select * from {{ triage_batch('staged', 'customer_id') }}
),

triaged as (
    {{ triage_versions('batch', 'customer_id', ref('stg_landing__customers')) }}
)

select *{{ bucket_column('customer_id') }} from triaged
