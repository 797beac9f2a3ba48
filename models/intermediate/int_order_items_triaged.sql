{{ config(**keyed_incremental(unique_key=['_source_file', '_file_hash', '_row_number'])) }}

with

staged as (
    select * from {{ ref('stg_landing__order_items') }}
),

batch as (
    -- every version of the keys this run touches (all rows in a full build)
    select * from {{ triage_batch('staged', 'order_id, line_no', parent=(ref('int_orders_triaged'), 'order_id')) }}
),

checked as (
    {{ reject_orphans('batch', ref('int_orders_triaged'), 'order_id', 'orphan_item') }}
),

triaged as (
    {{ triage_versions('checked', 'order_id, line_no', ref('stg_landing__order_items'), has_updated_at=false) }}
)

select *{{ bucket_column('order_id, line_no') }} from triaged
