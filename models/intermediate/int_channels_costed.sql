-- One row per acquisition channel: marketing spend and new customers over the cac window up to the
-- as-of date, and their ratio (CAC); feeds each customer's channel CAC in clv.
with

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

spend as (
    select {{ keyed_star() }} from {{ ref('int_marketing_spend_triaged') }}
    where outcome = 'accepted'
),

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

rated as (
    -- each spend row in the window with the latest rate of its currency on or before its date (none before the
    -- first rate); a join and a ranking rather than an as-of join, which Spark does not have
    select spend.*, spend_rate.cny_per_unit as spend_cny_per_unit
    from spend
    cross join as_of
    left join fx_rates as spend_rate
        on spend.currency = spend_rate.currency and spend.spend_date >= spend_rate.rate_date
    where spend.spend_date > as_of.as_of_date - {{ var('cac_window_days') }}
        and spend.spend_date <= as_of.as_of_date
    qualify row_number() over (
        partition by spend._source_file, spend._file_hash, spend._row_number order by spend_rate.rate_date desc
    ) = 1
),

reported as (
    -- and the latest rate of the reporting currency on or before it
    select rated.*, reporting_rate.cny_per_unit as reporting_cny_per_unit
    from rated
    left join fx_rates as reporting_rate
        on reporting_rate.currency = '{{ var("reporting_currency") }}' and rated.spend_date >= reporting_rate.rate_date
    qualify row_number() over (
        partition by rated._source_file, rated._file_hash, rated._row_number order by reporting_rate.rate_date desc
    ) = 1
),

window_spend as (
    select
        channel,
        sum(spend * spend_cny_per_unit / reporting_cny_per_unit) as spend_reporting
    from reported
    group by channel
),

new_customers as (
    select customers.acquisition_channel as channel, count(*) as new_customers
    from {{ ref('int_customers_standardised') }} as customers
    inner join {{ ref('int_customers_merged') }} as identities
        on customers.customer_id = identities.customer_id
    cross join as_of
    where not identities.is_merged
        and cast(customers.signup_ts as date) > as_of.as_of_date - {{ var('cac_window_days') }}
        and cast(customers.signup_ts as date) <= as_of.as_of_date
        and customers.acquisition_channel is not null
    group by customers.acquisition_channel
),

channels as (
    select channel from window_spend
    union
    select channel from new_customers
),

costed as (
    select
        channels.channel,
        (select as_of_date from as_of) as as_of_date,
        cast(round(coalesce(window_spend.spend_reporting, 0), 2) as decimal(18, 2)) as marketing_spend,
        coalesce(new_customers.new_customers, 0) as new_customers,
        cast(round(window_spend.spend_reporting / nullif(new_customers.new_customers, 0), 2) as decimal(18, 2))
            as cac,
        '{{ var("reporting_currency") }}' as currency
    from channels
    left join window_spend on channels.channel = window_spend.channel
    left join new_customers on channels.channel = new_customers.channel
)

select * from costed
