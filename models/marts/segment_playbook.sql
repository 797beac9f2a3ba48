-- One row per configured segment: what it means and what to do with it, with its size today, and the product pairs
-- to cross-sell to it (its own strongest product_associations, else those of all customers).
with

rules as (
    select * from {{ ref('int_segment_rules') }}
),

summary as (
    select * from {{ ref('segment_summary') }}
),

products as (
    select product_id, product_name from {{ ref('int_products_triaged') }} where outcome = 'accepted'
),

pairs as (
    -- each product pair once (lift is symmetric), strongest first per scope
    select
        associations.segment,
        coalesce(first_product.product_name, associations.antecedent) || ' (' || associations.antecedent || ') + '
            || coalesce(second_product.product_name, associations.consequent) || ' (' || associations.consequent
            || '), lift ' || round(associations.lift, 2) as pair,
        row_number() over (
            partition by associations.segment
            order by associations.lift desc, associations.antecedent, associations.consequent
        ) as pair_rank
    from {{ ref('product_associations') }} as associations
    left join products as first_product on associations.antecedent = first_product.product_id
    left join products as second_product on associations.consequent = second_product.product_id
    where associations.item_type = 'product' and associations.antecedent < associations.consequent
),

cross_sell as (
    select segment, {{ ordered_join('pair', 'pair_rank', "'; '") }} as cross_sell
    from pairs
    where pair_rank <= {{ var('playbook_cross_sell_pairs') }}
    group by segment
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
        coalesce(summary.share_of_revenue, 0) as revenue_share,
        coalesce(own.cross_sell, overall.cross_sell) as cross_sell,
        case when own.cross_sell is not null then 'segment' when overall.cross_sell is not null then 'all' end
            as cross_sell_basis
    from rules
    left join summary on rules.dimension = summary.dimension and rules.segment = summary.segment
    left join cross_sell as own on rules.dimension = 'business_segment' and rules.segment = own.segment
    left join cross_sell as overall on overall.segment = 'all'
)

select * from playbook
