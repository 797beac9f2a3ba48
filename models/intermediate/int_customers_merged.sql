-- One person under several customer ids (same pseudonym of the normalised email or phone) is merged into the id
-- that signed up first; matched_on says which key made the match.
with

customers as {{ inline_cte() }} (
    -- read more than once: scanned again rather than copied
    select * from {{ ref('int_customers_standardised') }}
),

keys as (
    select customer_id, 'email' as key_type, email_pseudonym as key_value from customers where email_pseudonym is not null
    union all
    select customer_id, 'phone' as key_type, phone_pseudonym as key_value from customers where phone_pseudonym is not null
),

edges as (
    select distinct
        a.customer_id as customer_id,
        b.customer_id as other_id
    from keys as a
    inner join keys as b
        on a.key_type = b.key_type and a.key_value = b.key_value and a.customer_id != b.customer_id
),

components as (
    -- connected components: an email match and a phone match chain into one person (macros/engine.sql)
    {{ connected_components('customers', 'edges') }}
),

canonical as (
    select
        components.customer_id,
        {{ min_by('components.member_id', ['members.signup_ts', 'components.member_id']) }} as canonical_customer_id
    from components
    inner join customers as members on components.member_id = members.customer_id
    group by components.customer_id
),

matched_keys as (
    select
        a.customer_id,
        {{ distinct_sorted_join('a.key_type', "'+'") }} as matched_on
    from keys as a
    inner join keys as b
        on a.key_type = b.key_type and a.key_value = b.key_value and a.customer_id != b.customer_id
    group by a.customer_id
),

merged as (
    select
        canonical.customer_id,
        canonical.canonical_customer_id,
        canonical.customer_id != canonical.canonical_customer_id as is_merged,
        matched_keys.matched_on
    from canonical
    left join matched_keys on canonical.customer_id = matched_keys.customer_id
)

select * from merged
