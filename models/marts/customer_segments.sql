with

segmented as (
    select * from {{ ref('int_customers_segmented') }}
),

published as (
    select
        customer_id,
        as_of_date,
        customer_type,
        acquisition_channel,
        signup_date,
        tenure_days,
        marketing_opt_out,
        merged_customer_ids,
        orders_placed,
        cancelled_orders,
        refunded_orders,
        first_order_date,
        last_order_date,
        recency_days,
        frequency,
        cast(monetary as decimal(18, 2)) as monetary,
        cast(round(avg_order_value, 2) as decimal(18, 2)) as avg_order_value,
        '{{ var("reporting_currency") }}' as currency,
        category_count,
        r_score,
        f_score,
        m_score,
        r_score::varchar || f_score::varchar || m_score::varchar as rfm_score,
        rfm_segment,
        value_tier,
        frequency_group,
        fm_quadrant,
        lifecycle_stage,
        business_segment,
        cast(clv as decimal(18, 2)) as clv
    from segmented
)

select * from published
