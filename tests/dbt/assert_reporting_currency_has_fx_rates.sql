-- The reporting currency (SEGMENTS_REPORTING_CURRENCY) must be in the fx seed, or no amount converts.
with

rates as (
    select count(*) as known
    from {{ ref('fx_rates') }}
    where currency = '{{ var("reporting_currency") }}'
)

select * from rates where known = 0
