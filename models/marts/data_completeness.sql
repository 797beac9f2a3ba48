-- How complete the accepted input is: per entity and column, rows, missing values and values that
-- were present but unusable (an invalid email or phone). Missing fields are counted, never invented.
{%- set landing_metadata = ['_source_file', '_file_hash', '_row_number', '_loaded_at'] -%}
{#- the pseudonymised contact columns are reported under the landing names, since the values are pseudonyms by now -#}
{%- set landing_names = {'name_pseudonym': 'name', 'email_pseudonym': 'email', 'phone_pseudonym': 'phone'} %}
with

customers as (
    select * from {{ ref('int_customers_standardised') }}
),

orders as (
    select {{ keyed_star() }} from {{ ref('int_orders_triaged') }}
    where outcome = 'accepted'
),

invalid_contacts as (
    select
        count(*) filter (where has_invalid_email) as email,
        count(*) filter (where has_invalid_phone) as phone
    from {{ ref('int_customers_standardised') }}
),

customer_presence as (
    {{ column_presence('customers', ref('int_customers_standardised'),
                       landing_metadata + ['has_invalid_email', 'has_invalid_phone'], landing_names) }}
),

order_presence as (
    {{ column_presence('orders', ref('int_orders_triaged'), landing_metadata + ['outcome', 'reject_reason', '_bucket']) }}
),

invalid_long as (
    select 'email' as column_name, email as invalid from invalid_contacts
    union all
    select 'phone' as column_name, phone as invalid from invalid_contacts
),

counted as (
    select
        'customers' as entity,
        customer_presence.column_name,
        customer_presence.row_count as rows_accepted,
        customer_presence.row_count - customer_presence.present as rows_missing,
        coalesce(invalid_long.invalid, 0) as rows_invalid
    from customer_presence
    left join invalid_long on customer_presence.column_name = invalid_long.column_name
    union all
    select
        'orders' as entity,
        column_name,
        row_count as rows_accepted,
        row_count - present as rows_missing,
        0 as rows_invalid
    from order_presence
),

shared as (
    select
        *,
        coalesce(cast(rows_missing as double) / nullif(rows_accepted, 0), 0) as share_missing
    from counted
)

select * from shared
