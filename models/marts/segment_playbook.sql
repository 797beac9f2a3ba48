-- One row per configured segment: what it means and what to do with it, with its size today.
with

rules as (
    select * from {{ ref('int_segment_rules') }}
),

summary as (
    select * from {{ ref('segment_summary') }}
),

playbook as (
    select
        rules.dimension,
        rules.segment,
        rules.rule_order,
        rules.label_en,
        rules.label_zh,
        rules.description,
        rules.recommended_action,
        coalesce(summary.customers, 0) as customers,
        coalesce(summary.share_of_customers, 0) as share_of_customers,
        coalesce(summary.share_of_revenue, 0) as revenue_share
    from rules
    left join summary on rules.dimension = summary.dimension and rules.segment = summary.segment
)

select * from playbook
