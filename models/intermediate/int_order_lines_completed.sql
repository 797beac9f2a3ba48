-- One row per accepted order line of a completed order on or before the as-of date, with the person (canonical id)
-- who ordered it and the product's category: what product_associations and customer_recommendations count.
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

identities as (
    select * from {{ ref('int_customers_merged') }}
),

orders as (
    select converted.order_id, converted.order_date, identities.canonical_customer_id as customer_id
    from {{ ref('int_orders_converted') }} as converted
    inner join identities on converted.customer_id = identities.customer_id
    cross join as_of
    where converted.status = 'completed' and converted.order_date <= as_of.as_of_date
),

lines as (
    select
        orders.order_id,
        orders.order_date,
        orders.customer_id,
        items.line_no,
        items.product_id,
        products.category,
        -- in the order's currency, as int_customer_categories_daily counts category spend
        items.quantity * items.unit_price as line_amount
    from orders
    inner join {{ ref('int_order_items_triaged') }} as items on orders.order_id = items.order_id
    left join {{ ref('int_products_triaged') }} as products
        on items.product_id = products.product_id and products.outcome = 'accepted'
    where items.outcome = 'accepted'
)

select * from lines
