-- How complete the accepted input is: per entity and column, rows, missing values and values that
-- were present but unusable (an invalid email or phone). Missing fields are counted, never invented.
with

customers as (
    -- reported under the landing column names (the values are pseudonyms by now)
    select
        * exclude ({{ landing_metadata() }}, has_invalid_email, has_invalid_phone)
        rename (name_pseudonym as name, email_pseudonym as email, phone_pseudonym as phone)
    from {{ ref('int_customers_standardised') }}
),

orders as (
    select * exclude ({{ landing_metadata() }})
    from {{ ref('int_orders_triaged') }}
    where outcome = 'accepted'
),

invalid_contacts as (
    select
        count(*) filter (where has_invalid_email) as email,
        count(*) filter (where has_invalid_phone) as phone
    from {{ ref('int_customers_standardised') }}
),

customer_presence as (
    unpivot (select count(*) as row_count, count(columns(*)) from customers)
    on columns(* exclude (row_count))
    into name column_name value present
),

order_presence as (
    unpivot (select count(*) as row_count, count(columns(* exclude (outcome, reject_reason))) from orders)
    on columns(* exclude (row_count))
    into name column_name value present
),

invalid_long as (
    unpivot invalid_contacts on email, phone into name column_name value invalid
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
        coalesce(rows_missing / nullif(rows_accepted, 0), 0) as share_missing
    from counted
)

select * from shared
