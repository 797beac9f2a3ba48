-- One row per audience (segments.yml) and customer in it on the as-of date, with the segment, the
-- active tags and the recommended action that a CRM import needs; opted-out customers and the audience's control
-- group (in_holdout) are flagged here and left out of every export.
{%- set rules = var('segment_rules') %}
{%- set primary = rules.dimensions[0].name %}
with

customers as (
    select * from {{ ref('customer_segments') }}
),

active_tags as (
    select customer_id, tag from {{ ref('customer_tags') }}
    where tag_status = 'active'
),

tag_lists as (
    select customer_id, {{ ordered_join('tag', 'tag', "';'") }} as tags
    from active_tags
    group by customer_id
),

actions as (
    select segment, recommended_action from {{ ref('int_segment_rules') }}
    where dimension = '{{ primary }}'
),

members as (
    {{ audience_membership('customers', 'active_tags') }}
),

described as (
    select
        members.audience,
        members.customer_id,
        customers.{{ primary }} as segment,
        coalesce(tag_lists.tags, '') as tags,
        actions.recommended_action,
        customers.as_of_date,
        customers.marketing_opt_out,
        {{ in_holdout('members.audience', 'members.customer_id') }} as in_holdout
    from members
    inner join customers on members.customer_id = customers.customer_id
    left join tag_lists on members.customer_id = tag_lists.customer_id
    left join actions on customers.{{ primary }} = actions.segment
)

select * from described
