with

staged as (
    select * from {{ ref('stg_landing__marketing_spend') }}
),

known_currencies as (
    select distinct currency from {{ ref('fx_rates') }}
),

checked as (
    select
        staged.* exclude (reject_reason),
        case
            when staged.reject_reason is not null then staged.reject_reason
            when known_currencies.currency is null then 'unknown_currency'
        end as reject_reason
    from staged
    left join known_currencies on staged.currency = known_currencies.currency
),

triaged as (
    {{ triage_versions('checked', 'spend_date, channel', has_updated_at=false) }}
)

select * from triaged
