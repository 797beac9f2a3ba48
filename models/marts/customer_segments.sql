-- One row per customer known on the as-of date: features, scores, every segment dimension, tags'
-- inputs and the reasons behind each segment.
with

segmented as (
    select * from {{ ref('int_customers_segmented') }}
    where is_current
),

predicted as (
    select * from {{ ref('customer_clv') }}
),

clustered as (
    select * from {{ ref('customer_clusters') }}
),

graced as (
    -- the current value_tier and lifecycle_stage versions beside the one before: a move down takes effect only after
    -- the customer has qualified for the lower segment for the dimension's grace_days (a move up at once)
    select
        customer_id,
        dimension,
        segment,
        valid_from,
        lag(segment) over (partition by customer_id, dimension order by valid_from) as previous_segment,
        valid_to
    from {{ ref('segment_history') }}
    where dimension in ('value_tier', 'lifecycle_stage')
    qualify valid_to is null
),

held as (
    select
        graced.customer_id,
        graced.dimension,
        graced.previous_segment as effective_segment,
        graced.dimension || ' held at ' || graced.previous_segment || ' until '
            || cast(graced.valid_from + grace.days as {{ dbt.type_string() }}) || ' (grace '
            || cast(grace.days as {{ dbt.type_string() }}) || ' days): qualifies for ' || graced.segment || ' since '
            || cast(graced.valid_from as {{ dbt.type_string() }}) as reason
    from graced
    inner join (values
        ('value_tier', {{ var('grace_days_value_tier') }}),
        ('lifecycle_stage', {{ var('grace_days_lifecycle_stage') }})
    ) as grace(dimension, days) on graced.dimension = grace.dimension
    cross join {{ ref('int_as_of_date') }} as as_of
    where {{ segment_rank('graced.dimension', 'graced.segment') }}
            < {{ segment_rank('graced.dimension', 'graced.previous_segment') }}
        and as_of.as_of_date < graced.valid_from + grace.days
),

overridden as (
    -- appeals and manual overrides that hold at the as-of date (override_log), applied last of all
    select
        customer_id,
        {%- for dimension in history_dimensions() %}
        max(segment) filter (where dimension = '{{ dimension }}') as {{ dimension }}_override,
        {%- endfor %}
        {{ ordered_join("dimension || ' set to ' || segment || ' by an override until '
                   || coalesce(cast(expires_at - 1 as " ~ dbt.type_string() ~ "), 'withdrawn') || ': '
                   || coalesce(request_reason, 'no reason given')", 'dimension', "'; '") }} as override_reason
    from {{ ref('override_log') }}
    where status = 'applied'
    group by customer_id
),

primary_versions as (
    -- the customer's current version of the primary dimension and the segment of the version before it
    select
        customer_id,
        valid_from as segment_since,
        lag(segment) over (partition by customer_id order by valid_from) as previous_segment,
        valid_to
    from {{ ref('segment_history') }}
    where dimension = '{{ primary_dimension() }}'
    qualify valid_to is null
),

published as (
    select
        segmented.customer_id,
        snapshot_date as as_of_date,
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
        {{ money('avg_order_value') }} as avg_order_value,
        '{{ var("reporting_currency") }}' as currency,
        category_count,
        r_score,
        f_score,
        m_score,
        cast(r_score as {{ dbt.type_string() }}) || cast(f_score as {{ dbt.type_string() }})
            || cast(m_score as {{ dbt.type_string() }}) as rfm_score,
        -- an applied override (override_log) wins over the rules and the grace periods
        coalesce(overridden.rfm_segment_override, rfm_segment) as rfm_segment,
        value_tier,
        coalesce(overridden.value_tier_override, held_tier.effective_segment, value_tier) as value_tier_effective,
        coalesce(overridden.frequency_group_override, frequency_group) as frequency_group,
        fm_quadrant,
        lifecycle_stage,
        coalesce(overridden.lifecycle_stage_override, held_stage.effective_segment, lifecycle_stage)
            as lifecycle_stage_effective,
        nullif(concat_ws('; ', held_tier.reason, held_stage.reason), '') as grace_reason,
        {%- for dimension in var('segment_rules').dimensions %}
        coalesce(overridden.{{ dimension.name }}_override, segmented.{{ dimension.name }}) as {{ dimension.name }},
        {%- endfor %}
        coarse_segment,
        fine_segment,
        {{ money('clv') }} as clv,
        round(predicted.p_alive, 4) as p_alive,
        round(predicted.expected_purchases_90d, 4) as expected_purchases_90d,
        round(predicted.expected_purchases_365d, 4) as expected_purchases_365d,
        {{ money('predicted.predicted_clv_12m') }} as predicted_clv_12m,
        clustered.cluster,
        primary_versions.previous_segment,
        primary_versions.segment_since,
        cast(channel_cac as decimal(18, 2)) as channel_cac,
        age,
        age_band,
        gender,
        occupation,
        income_band,
        country_code,
        province,
        city,
        region_group,
        city_tier,
        interests,
        top_category,
        category_affinity,
        top_browsed_category,
        referrals_made,
        cast(referral_revenue as decimal(18, 2)) as referral_revenue,
        influence_score,
        company_size_tier,
        industry,
        round(holiday_spend_share, 4) as holiday_spend_share,
        round(weekend_order_share, 4) as weekend_order_share,
        preferred_hour_band,
        sessions,
        page_views,
        avg_dwell_seconds,
        round(click_through_rate, 4) as click_through_rate,
        round(add_to_cart_rate, 4) as add_to_cart_rate,
        days_since_last_visit,
        latest_nps,
        latest_csat,
        nps_class,
        segment_reasons,
        overridden.override_reason
    from segmented
    left join predicted on segmented.customer_id = predicted.customer_id
    left join clustered on segmented.customer_id = clustered.customer_id
    left join primary_versions on segmented.customer_id = primary_versions.customer_id
    left join held as held_tier on segmented.customer_id = held_tier.customer_id and held_tier.dimension = 'value_tier'
    left join held as held_stage
        on segmented.customer_id = held_stage.customer_id and held_stage.dimension = 'lifecycle_stage'
    left join overridden on segmented.customer_id = overridden.customer_id
)

select * from published
