-- One row per audience (segments.yml) and group: the customers who were in the audience at the last evaluation date
-- before the as-of date (by the audience's own conditions on that date's segments and tags), split into those who
-- were exported and the control group held out of the export (in_holdout), and what each group did by the as-of
-- date: repurchase rate and revenue. The difference between the groups is the audience's measured effect.
with

snapshots as (
    select
        max(snapshot_date) filter (where not is_current) as period_start,
        max(snapshot_date) filter (where is_current) as period_end
    from {{ ref('int_snapshot_dates') }}
),

customers as (
    -- everyone as evaluated at the period's start: the columns audience conditions test
    select segmented.*
    from {{ ref('int_customers_segmented') }} as segmented
    inner join snapshots on segmented.snapshot_date = snapshots.period_start
),

tags_then as (
    select evaluated.customer_id, evaluated.tag
    from {{ ref('int_customer_tags_evaluated') }} as evaluated
    inner join snapshots on evaluated.snapshot_date = snapshots.period_start
),

ending as (
    select segmented.customer_id, segmented.frequency, segmented.monetary
    from {{ ref('int_customers_segmented') }} as segmented
    inner join snapshots on segmented.snapshot_date = snapshots.period_end
),

members as (
    -- the audience's members at the period's start, with what they had bought by then
    select membership.audience, customers.customer_id, customers.marketing_opt_out, customers.frequency,
        customers.monetary
    from ({{ audience_membership('customers', 'tags_then') }}) as membership
    inner join customers on membership.customer_id = customers.customer_id
),

outcomes as (
    -- opted-out customers were in neither group
    select
        members.audience,
        case when {{ in_holdout('members.audience', 'members.customer_id') }} then 'holdout' else 'exported' end
            as {{ adapter.quote('group') }},
        coalesce(ending.frequency, 0) > coalesce(members.frequency, 0) as repurchased,
        coalesce(ending.monetary, 0) - coalesce(members.monetary, 0) as revenue
    from members
    left join ending on members.customer_id = ending.customer_id
    where not coalesce(members.marketing_opt_out, false)
),

evaluation as (
    select
        outcomes.audience,
        outcomes.{{ adapter.quote('group') }},
        snapshots.period_start,
        snapshots.period_end,
        count(*) as customers,
        round(avg(case when outcomes.repurchased then 1 else 0 end), 4) as repurchase_rate,
        cast(sum(outcomes.revenue) as decimal(18, 2)) as revenue,
        cast(round(avg(outcomes.revenue), 2) as decimal(18, 2)) as revenue_per_customer
    from outcomes
    cross join snapshots
    group by outcomes.audience, outcomes.{{ adapter.quote('group') }}, snapshots.period_start, snapshots.period_end
)

select * from evaluation
