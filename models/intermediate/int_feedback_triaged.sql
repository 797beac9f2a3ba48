with

staged as (
    select * from {{ ref('stg_landing__feedback') }}
),

checked as (
    {{ reject_orphans('staged', ref('int_customers_triaged'), 'customer_id', 'orphan_feedback') }}
),

triaged as (
    {{ triage_versions('checked', 'customer_id, survey_ts', has_updated_at=false) }}
)

select * from triaged
