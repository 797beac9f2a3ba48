-- One row per customer and rank: up to recommendation_count products or categories to offer, from what goes with
-- their purchases (product_associations of their business segment, else of all customers), the category they browse
-- most and their stated interests; never what they bought in the last recommendation_exclude_days days.
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

customers as (
    select customer_id, business_segment, top_browsed_category, interests from {{ ref('customer_segments') }}
),

lines as (
    select * from {{ ref('int_order_lines_completed') }}
),

rules as (
    select * from {{ ref('product_associations') }} where item_type = 'product'
),

bought as (
    select distinct customer_id, product_id from lines
),

recently_bought as (
    select distinct lines.customer_id, 'product' as item_type, lines.product_id as item
    from lines
    cross join as_of
    where lines.order_date > as_of.as_of_date - {{ var('recommendation_exclude_days') }}
    union
    select distinct lines.customer_id, 'category', lines.category
    from lines
    cross join as_of
    where lines.order_date > as_of.as_of_date - {{ var('recommendation_exclude_days') }} and lines.category is not null
),

cross_sell as (
    -- the strongest rule from a product the customer bought, in their segment when it has one, else overall
    select
        bought.customer_id,
        'product' as item_type,
        rules.consequent as item,
        max_by(
            'bought ' || rules.antecedent || ': ' || cast(round(100 * rules.confidence) as integer) || '% of '
                || case when rules.segment = 'all' then 'all' else rules.segment end
                || ' orders with it also hold ' || rules.consequent || ' (lift ' || round(rules.lift, 2) || ')',
            {{ ordering(["rules.segment != 'all'", 'rules.lift', 'rules.confidence', 'rules.antecedent']) }}
        ) as reason,
        max(rules.lift) filter (where rules.segment = customers.business_segment) as segment_lift,
        max(rules.lift) as any_lift
    from bought
    inner join customers on bought.customer_id = customers.customer_id
    inner join rules
        on bought.product_id = rules.antecedent and rules.segment in ('all', customers.business_segment)
    group by bought.customer_id, rules.consequent
),

candidates as (
    select customer_id, item_type, item, coalesce(segment_lift, any_lift) as score, reason from cross_sell
    union all
    -- below any kept rule (whose lift is at least association_min_lift, above 1)
    select customer_id, 'category', top_browsed_category, 1.0, 'browses ' || top_browsed_category || ' most'
    from customers
    where top_browsed_category is not null
    union all
    select customer_id, 'category', interest, 0.5, 'interested in ' || interest
    from (
        select customers.customer_id, {{ trim_spaces('listed.interest') }} as interest
        from customers
        {{ split_rows('lower(customers.interests)', "';'", 'listed', 'interest') }}
    ) as interests
    where interest in (select distinct lower(category) from lines where category is not null)
),

eligible as (
    select candidates.*
    from candidates
    anti join recently_bought
        on candidates.customer_id = recently_bought.customer_id
        and candidates.item_type = recently_bought.item_type
        and lower(candidates.item) = lower(recently_bought.item)
),

best as (
    -- one reason per item: its highest score
    select customer_id, item_type, item, max(score) as score, max_by(reason, {{ ordering(['score', 'reason']) }}) as reason
    from eligible
    group by customer_id, item_type, item
),

ranked as (
    select
        customer_id,
        cast(row_number() over (partition by customer_id order by score desc, item_type desc, item) as integer)
            as rank,
        item_type,
        item,
        round(score, 6) as score,
        reason
    from best
    qualify rank <= {{ var('recommendation_count') }}
)

select * from ranked
