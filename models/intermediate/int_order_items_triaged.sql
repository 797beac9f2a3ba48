with

staged as (
    select * from {{ ref('stg_landing__order_items') }}
),

known_orders as (
    select order_id from {{ ref('int_orders_triaged') }}
    where outcome = 'accepted'
),

checked as (
    select
        staged.* exclude (reject_reason),
        case
            when staged.reject_reason is not null then staged.reject_reason
            when known_orders.order_id is null then 'orphan_item'
        end as reject_reason
    from staged
    left join known_orders on staged.order_id = known_orders.order_id
),

triaged as (
    {{ triage_versions('checked', 'order_id, line_no', has_updated_at=false) }}
)

select * from triaged
