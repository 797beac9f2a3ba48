{{ config(**keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'])) }}

with

staged as (
    select * from {{ ref('stg_landing__products') }}
),

batch as (
    -- every version of the keys this run touches (all rows in a full build)
    select * from {{ triage_batch('staged', 'product_id') }}
),

triaged as (
    {{ triage_versions('batch', 'product_id', ref('stg_landing__products'), has_updated_at=false) }}
)

select *{{ bucket_column('product_id') }} from triaged
