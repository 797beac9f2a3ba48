-- One row per audience: members, how many were left out because they opted out of marketing, and
-- how many are exported. Published for BI.
with

members as (
    select * from {{ ref('audience_members') }}
),

counted as (
    select
        audience,
        count(*) as members,
        count(*) filter (where marketing_opt_out) as opted_out_excluded,
        count(*) filter (where not marketing_opt_out) as exported,
        max(as_of_date) as as_of_date
    from members
    group by audience
)

select * from counted
