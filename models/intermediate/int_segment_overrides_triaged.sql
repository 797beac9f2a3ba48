{{ config(**keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'])) }}

-- Every landed override row with one outcome (accepted, quarantined, duplicate). An override is keyed by customer,
-- dimension and first day; a later file that repeats the key replaces it (a corrected or withdrawn appeal).
with

staged as (
    select * from {{ ref('stg_landing__segment_overrides') }}
),

batch as (
    select * from {{ triage_batch('staged', 'customer_id, dimension, valid_from') }}
),

triaged as (
    {{ triage_versions('batch', 'customer_id, dimension, valid_from', ref('stg_landing__segment_overrides'),
                       has_updated_at=false) }}
)

select *{{ bucket_column('customer_id, dimension, valid_from') }} from triaged
