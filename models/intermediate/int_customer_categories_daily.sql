{{ config(**keyed_incremental(unique_key='customer_id')) }}

-- Completed spend of each landed customer id per order date (UTC) and product category: category spend, affinity
-- and the number of categories bought at any date are sums over these rows. An incremental run recomputes the
-- customers whose orders, order lines or bought products were re-triaged in it; a customer left without any
-- such spend keeps one row with a NULL order_date (the same rows as a full build).
{#- besides re-triaged orders: orders whose lines, or the products on those lines, were re-triaged -#}
{%- set lines_changed -%}
    order_id in (
        select order_id from {{ ref('int_order_items_triaged') }}
        where _batch > {{ watermark('_batch') }}
            or product_id in (
                select product_id from {{ ref('int_products_triaged') }} where _batch > {{ watermark('_batch') }}
            )
    )
{%- endset %}

with

orders_triaged as (
    select {{ keyed_star() }} from {{ ref('int_orders_triaged') }}
),

affected as (
    {{ touched_customers('orders_triaged', also=lines_changed) }}
),

orders as (
    select * from {{ ref('int_orders_converted') }}
    where status = 'completed' and customer_id in (select customer_id from affected)
),

items as (
    select {{ keyed_star() }} from {{ ref('int_order_items_triaged') }} where outcome = 'accepted'
),

products as (
    select {{ keyed_star() }} from {{ ref('int_products_triaged') }} where outcome = 'accepted'
),

spend as (
    select orders.customer_id, orders.order_date, products.category, sum(items.quantity * items.unit_price) as spend
    from orders
    inner join items on orders.order_id = items.order_id
    inner join products on items.product_id = products.product_id
    group by all
),

daily as (
    select affected.customer_id, spend.order_date, spend.category, spend.spend, {{ load_batch() }} as _batch
    from affected
    left join spend on affected.customer_id = spend.customer_id
)

select *{{ bucket_column('customer_id') }} from daily
