-- Segment rules over the features, per customer and snapshot date. The built-in dimensions use the
-- thresholds in vars; the named dimensions (business_segment, ...) and their order come from
-- segments.yml, compiled and validated by orchestration/rules.py into the var segment_rules.
{%- set rules = var('segment_rules') %}
{%- if execute and not rules %}
    {{ exceptions.raise_compiler_error("var segment_rules is empty: run through `segments run` or Dagster, which compile segments.yml") }}
{%- endif %}
with

features as {{ inline_cte() }} (
    -- read three times (scores, classified, tiered): a scan of the table each time costs less than the copy DuckDB
    -- makes of a CTE that is read more than once
    select * from {{ ref('int_customer_features') }}
),

dimensions as (
    select * from {{ ref('int_customer_dimensions') }}
),

rfm_map as (
    select * from {{ ref('rfm_segment_map') }}
),

buyer_scores as (
    select
        customer_id,
        snapshot_date,
        {{ rank_score('recency_days desc', 'snapshot_date') }} as r_score,
        {{ rank_score('frequency', 'snapshot_date') }} as f_score,
        {{ rank_score('monetary', 'snapshot_date') }} as m_score,
        {{ share_ranked_ahead('monetary', 'snapshot_date') }} as monetary_share_ahead
    from features
    where frequency > 0
),

classified as (
    -- the scores and codes that decide the size of a fine segment, from narrow columns: the segments are sized
    -- here, and the wide rows below are read once (DuckDB copies a CTE that is read twice, and at 100M orders the
    -- copy of the wide rows, read for the sizes and again for the result, filled 40 GB of spill)
    select
        *,
        customer_type || '/' || lifecycle_stage as coarse_segment
    from (
        select
            features.customer_id,
            features.snapshot_date,
            features.customer_type,
            -- no completed order ranks below every buyer: score 1 on each axis
            coalesce(buyer_scores.r_score, 1) as r_score,
            coalesce(buyer_scores.f_score, 1) as f_score,
            coalesce(buyer_scores.m_score, 1) as m_score,
            buyer_scores.monetary_share_ahead,
            case
                when features.frequency = 0 then 'low'
                when buyer_scores.monetary_share_ahead < {{ var('value_tier_high_share') }} then 'high'
                when buyer_scores.monetary_share_ahead < {{ var('value_tier_mid_share') }} then 'mid'
                else 'low'
            end as value_tier,
            case
                when features.frequency >= {{ var('frequency_high_min_orders') }} then 'high'
                when features.frequency = 1 then 'one_time'
                else 'low'
            end as frequency_group,
            case
                when features.frequency = 0 then 'prospect'
                when features.first_order_date > features.snapshot_date - {{ var('lifecycle_new_days') }} then 'new'
                when features.recency_days <= {{ var('lifecycle_active_days') }} then 'active'
                when features.recency_days <= {{ var('lifecycle_churn_days') }} then 'silent'
                else 'churned'
            end as lifecycle_stage
        from features
        left join buyer_scores
            on features.customer_id = buyer_scores.customer_id and features.snapshot_date = buyer_scores.snapshot_date
    )
),

candidate_sizes as (
    select snapshot_date, coarse_segment, value_tier, frequency_group, count(*) as candidate_size
    from classified
    group by all
),

tiered as (
    select
        features.*,
        {{ star_except(['customer_id', 'snapshot_date'], 'dimensions') }},
        classified.r_score,
        classified.f_score,
        classified.m_score,
        classified.monetary_share_ahead,
        classified.value_tier,
        classified.frequency_group,
        classified.lifecycle_stage,
        case
            when features.frequency = 0 then 'no_purchase'
            else
                case when classified.f_score >= {{ var('fm_quadrant_high_score') }} then 'high_frequency' else 'low_frequency' end
                || '_'
                || case when classified.m_score >= {{ var('fm_quadrant_high_score') }} then 'high_value' else 'low_value' end
        end as fm_quadrant,
        classified.coarse_segment,
        -- fine segment: value tier x frequency group within the coarse segment; one smaller than
        -- min_segment_size at this snapshot folds into its coarse parent
        case
            when candidate_sizes.candidate_size >= {{ var('min_segment_size') }}
                then classified.coarse_segment || '/' || classified.value_tier || '_value/'
                    || classified.frequency_group || '_frequency'
            else classified.coarse_segment
        end as fine_segment
    from features
    inner join classified
        on features.customer_id = classified.customer_id and features.snapshot_date = classified.snapshot_date
    inner join candidate_sizes
        on classified.snapshot_date = candidate_sizes.snapshot_date
        and classified.coarse_segment is not distinct from candidate_sizes.coarse_segment
        and classified.value_tier = candidate_sizes.value_tier
        and classified.frequency_group = candidate_sizes.frequency_group
    left join dimensions
        on features.customer_id = dimensions.customer_id and features.snapshot_date = dimensions.snapshot_date
),

mapped as (
    select
        tiered.*,
        case when tiered.frequency = 0 then 'no_purchase' else rfm_map.rfm_segment end as rfm_segment,
        round(
            coalesce(tiered.avg_order_value, 0)
            * tiered.frequency * 365.25
            / greatest(
                {{ dbt.datediff("tiered.first_order_date", "tiered.snapshot_date", 'day') }} + 1,
                {{ var('clv_min_observation_days') }}
            )
            * {{ var('clv_expected_lifespan_years') }}
            - coalesce(tiered.channel_cac, {{ var('clv_default_cac') }}),
            2
        ) as clv
    from tiered
    left join rfm_map
        on tiered.r_score = rfm_map.r_score and tiered.f_score = rfm_map.f_score
),

configured as (
    select
        mapped.*,
        {%- for dimension in rules.dimensions %}
        case
            {%- for rule in dimension.rules %}
            when {{ rule.sql }} then '{{ rule.code }}'
            {%- endfor %}
        end as {{ dimension.name }},
        case when is_current then
            case
                {%- for rule in dimension.rules %}
                when {{ rule.sql }} then {{ rule_reason(rule.code, rule.explain_columns) }}
                {%- endfor %}
            end
        end as {{ dimension.name }}_reason{{ "," if not loop.last }}
        {%- endfor %}
    from mapped
),

explained as (
    {%- set reason_columns = [] %}
    {%- for dimension in rules.dimensions %}{% do reason_columns.append(dimension.name ~ '_reason') %}{% endfor %}
    select
        {{ star_except(reason_columns + ['monetary_share_ahead']) }},
        -- why each segment: the rule and the values it looked at; customer_segments publishes it at the as-of
        -- date only, and building it at every snapshot date cost a quarter of this model
        case when is_current then {{ segment_reasons(rules.dimensions) }} end as segment_reasons
    from configured
)

select * from explained
