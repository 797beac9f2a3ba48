-- Accepted customers with the country mapped to ISO-3166 alpha-2 (NULL when the name is unknown,
-- never guessed).
with

customers as (
    select {{ keyed_star() }} from {{ ref('int_customers_triaged') }}
    where outcome = 'accepted'
),

country_aliases as (
    select lower(alias) as alias, country_code from {{ ref('country_aliases') }}
),

standardised as (
    select
        {{ star_except(['outcome', 'reject_reason', '_batch'], 'customers') }},
        country_aliases.country_code
    from customers
    left join country_aliases on customers.country = country_aliases.alias
)

select * from standardised
