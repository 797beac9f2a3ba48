-- How complete the accepted input is: per entity and column, rows, missing values and values that
-- were present but unusable (an invalid email or phone). Missing fields are counted, never invented.
{#- every column of the accepted rows but the landing metadata; the pseudonymised contact columns under the landing
    names, since the values are pseudonyms by now -#}
{%- set customer_columns = [] -%}
{%- set order_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(ref('int_customers_standardised')) -%}
        {%- if column.name not in ['_source_file', '_file_hash', '_row_number', '_loaded_at', 'has_invalid_email',
                                   'has_invalid_phone'] -%}
            {%- do customer_columns.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for column in adapter.get_columns_in_relation(ref('int_orders_triaged')) -%}
        {%- if column.name not in ['_source_file', '_file_hash', '_row_number', '_loaded_at', 'outcome',
                                   'reject_reason'] -%}
            {%- do order_columns.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- set landing_names = {'name_pseudonym': 'name', 'email_pseudonym': 'email', 'phone_pseudonym': 'phone'} %}
with

customers as (
    select * from {{ ref('int_customers_standardised') }}
),

orders as (
    select * from {{ ref('int_orders_triaged') }}
    where outcome = 'accepted'
),

invalid_contacts as (
    select
        count(*) filter (where has_invalid_email) as email,
        count(*) filter (where has_invalid_phone) as phone
    from {{ ref('int_customers_standardised') }}
),

customer_counts as (
    select
        count(*) as row_count
        {%- for column in customer_columns %},
        count({{ adapter.quote(column) }}) as {{ adapter.quote('present_' ~ column) }}
        {%- endfor %}
    from customers
),

customer_presence as (
    {%- for column in customer_columns %}
    select '{{ landing_names.get(column, column) }}' as column_name, row_count,
        {{ adapter.quote('present_' ~ column) }} as present
    from customer_counts
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

order_counts as (
    select
        count(*) as row_count
        {%- for column in order_columns %},
        count({{ adapter.quote(column) }}) as {{ adapter.quote('present_' ~ column) }}
        {%- endfor %}
    from orders
),

order_presence as (
    {%- for column in order_columns %}
    select '{{ column }}' as column_name, row_count, {{ adapter.quote('present_' ~ column) }} as present
    from order_counts
    {{ "union all" if not loop.last }}
    {%- endfor %}
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
