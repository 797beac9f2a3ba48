with

staged as (
    select * from {{ ref('stg_landing__web_events') }}
),

known_customers as (
    select customer_id from {{ ref('int_customers_triaged') }}
    where outcome = 'accepted'
),

checked as (
    select
        staged.* exclude (reject_reason),
        case
            when staged.reject_reason is not null then staged.reject_reason
            -- a blank customer_id is an anonymous visitor; an unknown one is an orphan
            when staged.customer_id is not null and known_customers.customer_id is null then 'orphan_event'
        end as reject_reason
    from staged
    left join known_customers on staged.customer_id = known_customers.customer_id
),

triaged as (
    {{ triage_versions('checked', 'event_id', has_updated_at=false) }}
)

select * from triaged
