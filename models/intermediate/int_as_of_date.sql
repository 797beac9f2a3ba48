-- The run's as-of date: the as_of_date var (SEGMENTS_AS_OF) or else the latest accepted order date.
with

orders as (
    select {{ keyed_star() }} from {{ ref('int_orders_triaged') }}
    where outcome = 'accepted'
),

latest_order as (
    select cast(max(order_ts) as date) as latest_order_date from orders
),

resolved as (
    select
        {% if var('as_of_date') %}
            cast('{{ var("as_of_date") }}' as date)
        {% else %}
            latest_order_date
        {% endif %} as as_of_date
    from latest_order
)

select * from resolved
