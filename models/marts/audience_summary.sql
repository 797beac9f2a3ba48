-- One row per audience: members, how many were left out because they opted out of marketing, how many were held
-- out as the control group, and how many are exported. Published for BI.
with

members as (
    select * from {{ ref('audience_members') }}
),

counted as (
    select
        audience,
        count(*) as members,
        count(*) filter (where marketing_opt_out) as opted_out_excluded,
        count(*) filter (where not marketing_opt_out and in_holdout) as held_out,
        count(*) filter (where not marketing_opt_out and not in_holdout) as exported,
        max(as_of_date) as as_of_date
    from members
    group by audience
)

select * from counted
