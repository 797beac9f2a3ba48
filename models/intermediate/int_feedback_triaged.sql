with

staged as (
    select * from {{ ref('stg_landing__feedback') }}
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
            when known_customers.customer_id is null then 'orphan_feedback'
        end as reject_reason
    from staged
    left join known_customers on staged.customer_id = known_customers.customer_id
),

triaged as (
    {{ triage_versions('checked', 'customer_id, survey_ts', has_updated_at=false) }}
)

select * from triaged
