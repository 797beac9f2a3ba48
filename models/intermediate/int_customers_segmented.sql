-- Segment rules over the features; every threshold and window is a var in dbt_project.yml.
with

features as (
    select * from {{ ref('int_customer_features') }}
),

rfm_map as (
    select * from {{ ref('rfm_segment_map') }}
),

buyers as (
    select * from features where frequency > 0
),

buyer_scores as (
    select
        customer_id,
        {{ rank_score('recency_days desc') }} as r_score,
        {{ rank_score('frequency') }} as f_score,
        {{ rank_score('monetary') }} as m_score,
        {{ share_ranked_ahead('monetary') }} as monetary_share_ahead
    from buyers
),

scored as (
    -- no completed order ranks below every buyer: score 1 on each axis
    select
        features.*,
        coalesce(buyer_scores.r_score, 1) as r_score,
        coalesce(buyer_scores.f_score, 1) as f_score,
        coalesce(buyer_scores.m_score, 1) as m_score,
        buyer_scores.monetary_share_ahead
    from features
    left join buyer_scores on features.customer_id = buyer_scores.customer_id
),

tiered as (
    select
        scored.*,
        case
            when frequency = 0 then 'low'
            when monetary_share_ahead < {{ var('value_tier_high_share') }} then 'high'
            when monetary_share_ahead < {{ var('value_tier_mid_share') }} then 'mid'
            else 'low'
        end as value_tier,
        case
            when frequency >= {{ var('frequency_high_min_orders') }} then 'high'
            when frequency = 1 then 'one_time'
            else 'low'
        end as frequency_group,
        case
            when frequency = 0 then 'prospect'
            when first_order_date > as_of_date - {{ var('lifecycle_new_days') }} then 'new'
            when recency_days <= {{ var('lifecycle_active_days') }} then 'active'
            when recency_days <= {{ var('lifecycle_churn_days') }} then 'silent'
            else 'churned'
        end as lifecycle_stage,
        case
            when frequency = 0 then 'no_purchase'
            else
                case when f_score >= {{ var('fm_quadrant_high_score') }} then 'high_frequency' else 'low_frequency' end
                || '_'
                || case when m_score >= {{ var('fm_quadrant_high_score') }} then 'high_value' else 'low_value' end
        end as fm_quadrant
    from scored
),

segmented as (
    select
        tiered.* exclude (monetary_share_ahead),
        case
            when tiered.frequency = 0 then 'no_purchase'
            else rfm_map.rfm_segment
        end as rfm_segment,
        case
            when tiered.lifecycle_stage = 'prospect' then 'prospect'
            when tiered.lifecycle_stage = 'new' then 'new'
            when tiered.lifecycle_stage = 'active' and tiered.value_tier = 'high' then 'high_value'
            when tiered.lifecycle_stage = 'active' then 'potential'
            when tiered.lifecycle_stage = 'silent' then 'silent'
            else 'churned'
        end as business_segment,
        round(
            coalesce(tiered.avg_order_value, 0)
            * tiered.frequency * 365.25
            / greatest(
                date_diff('day', tiered.first_order_date, tiered.as_of_date) + 1,
                {{ var('clv_min_observation_days') }}
            )
            * {{ var('clv_expected_lifespan_years') }}
            - {{ var('clv_default_cac') }},
            2
        ) as clv
    from tiered
    left join rfm_map
        on tiered.r_score = rfm_map.r_score and tiered.f_score = rfm_map.f_score
)

select * from segmented
