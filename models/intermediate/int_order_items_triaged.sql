with

staged as (
    select * from {{ ref('stg_landing__order_items') }}
),

checked as (
    {{ reject_orphans('staged', ref('int_orders_triaged'), 'order_id', 'orphan_item') }}
),

triaged as (
    {{ triage_versions('checked', 'order_id, line_no', has_updated_at=false) }}
)

select * from triaged
