with

staged as (
    select * from {{ ref('stg_landing__customers') }}
),

triaged as (
    {{ triage_versions('staged', 'customer_id') }}
)

select * from triaged
