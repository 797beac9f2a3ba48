with

source as (
    select * from {{ source('raw', 'customers') }}{{ only_new_loads() }}
),

typed as (
    select
        {{ clean_text('customer_id') }} as customer_id,
        -- direct identifiers leave staging only as keyed hashes of their normalised form (macros/privacy.sql)
        {{ pseudonym(clean_text('name')) }} as name_pseudonym,
        {{ pseudonym(normalise_email('email')) }} as email_pseudonym,
        {{ pseudonym(normalise_phone('phone')) }} as phone_pseudonym,
        {{ clean_text('email') }} is not null and {{ normalise_email('email') }} is null as has_invalid_email,
        {{ clean_text('phone') }} is not null and {{ normalise_phone('phone') }} is null as has_invalid_phone,
        {{ normalise_gender('gender') }} as gender,
        {{ parse_date('birth_date') }} as birth_date,
        {{ normalise_region('city') }} as city,
        {{ normalise_region('province') }} as province,
        lower({{ clean_text('country') }}) as country,
        {{ parse_timestamp('signup_ts') }} as signup_ts,
        {{ normalise_code('acquisition_channel') }} as acquisition_channel,
        coalesce(upper({{ clean_text('customer_type') }}), 'B2C') as customer_type,
        {{ clean_text('company_name') }} as company_name,
        {{ clean_text('industry') }} as industry,
        {{ parse_integer('employee_count') }} as employee_count,
        {{ parse_decimal('annual_revenue') }} as annual_revenue,
        {{ clean_text('occupation') }} as occupation,
        {{ clean_text('income_band') }} as income_band,
        {{ clean_text('interests') }} as interests,
        {{ clean_text('referred_by') }} as referred_by,
        {{ parse_boolean('marketing_opt_out') }} as marketing_opt_out,
        {{ parse_timestamp('updated_at') }} as updated_at,
        {{ is_unparseable('signup_ts', parse_timestamp('signup_ts')) }}
            or {{ is_unparseable('updated_at', parse_timestamp('updated_at')) }} as has_bad_timestamp,
        {{ is_unparseable('birth_date', parse_date('birth_date')) }} as has_bad_date,
        {{ is_unparseable('employee_count', parse_integer('employee_count')) }}
            or {{ is_unparseable('annual_revenue', parse_decimal('annual_revenue')) }} as has_bad_number,
        {{ is_unparseable('marketing_opt_out', parse_boolean('marketing_opt_out')) }} as has_bad_boolean,
        {{ landing_metadata() }}
    from source
),

flagged as (
    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when has_bad_timestamp then 'unparseable_timestamp'
            when signup_ts is null then 'missing_signup_ts'
            when has_bad_date then 'unparseable_date'
            when has_bad_number then 'unparseable_number'
            when has_bad_boolean then 'unparseable_boolean'
            when customer_type not in ('B2C', 'B2B') then 'invalid_customer_type'
            when employee_count < 0 or annual_revenue < 0 then 'negative_amount'
            when signup_ts > _loaded_at or updated_at > _loaded_at then 'future_timestamp'
        end as reject_reason
    from typed
)

select {{ star_except(['has_bad_timestamp', 'has_bad_date', 'has_bad_number', 'has_bad_boolean']) }} from flagged
