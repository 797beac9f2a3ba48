with

staged as (
    select * from {{ ref('stg_landing__products') }}
),

triaged as (
    {{ triage_versions('staged', 'product_id', has_updated_at=false) }}
)

select * from triaged
