-- One row per scope (every customer, or one business segment) and ordered pair of items bought in the same
-- completed order on or before the as-of date - products, and their categories - where the pair is frequent and
-- lifted enough: support, confidence and lift of "an order with the antecedent also holds the consequent".
with

segments as (
    select customer_id, business_segment from {{ ref('customer_segments') }}
),

lines as (
    select * from {{ ref('int_order_lines_completed') }}
),

basket_items as (
    -- each item once per order
    select distinct order_id, customer_id, 'product' as item_type, product_id as item from lines
    union
    select distinct order_id, customer_id, 'category', category from lines where category is not null
),

scoped as (
    select basket_items.*, 'all' as segment from basket_items
    union all
    select basket_items.*, segments.business_segment
    from basket_items
    inner join segments on basket_items.customer_id = segments.customer_id
),

baskets as (
    -- orders with at least one item, per scope: the denominator of support
    select segment, count(distinct order_id) as orders from scoped group by segment
),

item_orders as (
    select segment, item_type, item, count(*) as orders from scoped group by segment, item_type, item
),

pair_orders as (
    select
        antecedent.segment,
        antecedent.item_type,
        antecedent.item as antecedent,
        consequent.item as consequent,
        count(*) as orders
    from scoped as antecedent
    inner join scoped as consequent
        on antecedent.order_id = consequent.order_id
        and antecedent.segment = consequent.segment
        and antecedent.item_type = consequent.item_type
        and antecedent.item != consequent.item
    group by antecedent.segment, antecedent.item_type, antecedent.item, consequent.item
    having count(*) >= {{ var('association_min_orders') }}
),

measured as (
    select
        pair_orders.segment,
        pair_orders.item_type,
        pair_orders.antecedent,
        pair_orders.consequent,
        pair_orders.orders,
        pair_orders.orders / baskets.orders as support,
        pair_orders.orders / antecedents.orders as confidence,
        pair_orders.orders * baskets.orders / (antecedents.orders * consequents.orders) as lift
    from pair_orders
    inner join baskets on pair_orders.segment = baskets.segment
    inner join item_orders as antecedents
        on pair_orders.segment = antecedents.segment
        and pair_orders.item_type = antecedents.item_type
        and pair_orders.antecedent = antecedents.item
    inner join item_orders as consequents
        on pair_orders.segment = consequents.segment
        and pair_orders.item_type = consequents.item_type
        and pair_orders.consequent = consequents.item
),

kept as (
    select
        segment,
        item_type,
        antecedent,
        consequent,
        orders,
        round(support, 6) as support,
        round(confidence, 6) as confidence,
        round(lift, 6) as lift
    from measured
    where support >= {{ var('association_min_support') }} and lift >= {{ var('association_min_lift') }}
)

select * from kept
