-- The run's as-of date: the as_of_date var (SEGMENTS_AS_OF) or else the latest accepted order date.
with

orders as (
    select * from {{ ref('int_orders_triaged') }}
    where outcome = 'accepted'
),

resolved as (
    select
        {% if var('as_of_date') %}
            cast('{{ var("as_of_date") }}' as date)
        {% else %}
            cast(max(order_ts) as date)
        {% endif %} as as_of_date
    from orders
)

select * from resolved
