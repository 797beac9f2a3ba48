with

staged as (
    select * from {{ ref('stg_landing__web_events') }}
),

checked as (
    -- a blank customer_id is an anonymous visitor; an unknown one is an orphan
    {{ reject_orphans('staged', ref('int_customers_triaged'), 'customer_id', 'orphan_event', allow_blank=true) }}
),

triaged as (
    {{ triage_versions('checked', 'event_id', has_updated_at=false) }}
)

select * from triaged
