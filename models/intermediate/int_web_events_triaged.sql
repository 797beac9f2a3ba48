{{ config(**keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'])) }}

with

staged as (
    select * from {{ ref('stg_landing__web_events') }}
),

batch as (
    -- every version of the keys this run touches (all rows in a full build)
    select * from {{ triage_batch('staged', 'event_id', parent=(ref('int_customers_triaged'), 'customer_id')) }}
),

checked as (
    -- a blank customer_id is an anonymous visitor; an unknown one is an orphan
    {{ reject_orphans('batch', ref('int_customers_triaged'), 'customer_id', 'orphan_event', allow_blank=true) }}
),

triaged as (
    {{ triage_versions('checked', 'event_id', ref('stg_landing__web_events'), has_updated_at=false) }}
)

select *{{ bucket_column('event_id') }} from triaged
