{#- Rank score 1..buckets: rank() gives tied values the same (lowest) position, so ties share one score
    and the result never depends on row order. Higher expression = higher score. -#}
{% macro rank_score(expression, partition_by=none) -%}
    {%- set window = ("partition by " ~ partition_by ~ " " if partition_by else "") -%}
    1 + cast(floor(
        {{ var('score_buckets') }} * (rank() over ({{ window }}order by {{ expression }}) - 1)
        / count(*) over ({{ window }})
    ) as integer)
{%- endmacro %}

{#- Share of the population ranked strictly ahead of this row (0 for the best), descending by expression. -#}
{% macro share_ranked_ahead(expression, partition_by=none) -%}
    {%- set window = ("partition by " ~ partition_by ~ " " if partition_by else "") -%}
    cast(rank() over ({{ window }}order by {{ expression }} desc) - 1 as double) / count(*) over ({{ window }})
{%- endmacro %}


{# The segment dimensions whose history is kept: the built-in ones and those of segments.yml. #}
{% macro history_dimensions() -%}
    {{ return(['lifecycle_stage', 'value_tier', 'frequency_group', 'rfm_segment']
        + var('segment_rules').dimensions | map(attribute='name') | list) }}
{%- endmacro %}


{# The primary dimension: the first of segments.yml (business_segment). #}
{% macro primary_dimension() -%}
    {{ return(var('segment_rules').dimensions[0].name) }}
{%- endmacro %}


{# Whether a customer is in an audience's control group: a fixed audience_holdout_share of each audience, chosen by
   the MD5 of audience and customer id, so the same customer stays in or out of the holdout on every run. #}
{% macro in_holdout(audience, customer_id) -%}
    ({{ md5_mod_10000(audience ~ " || ':' || " ~ customer_id) }} < {{ var('audience_holdout_share') }} * 10000)
{%- endmacro %}

{#- The MD5 of a text read as a 128-bit number (its 16 bytes little-endian, as DuckDB's md5_number reads them),
    modulo 10000. Spark has no 128-bit integer: it folds the bytes in from the last, keeping the remainder (Horner's
    rule), so both engines put the same customers in every holdout. -#}
{% macro md5_mod_10000(text) -%}
    {{ return(adapter.dispatch('md5_mod_10000', 'segments')(text)) }}
{%- endmacro %}

{% macro default__md5_mod_10000(text) -%}
    md5_number({{ text }}) % 10000
{%- endmacro %}

{% macro spark__md5_mod_10000(text) -%}
    aggregate(sequence(15, 0, -1), 0L,
              (remainder, byte) -> (remainder * 256 + cast(conv(substr(md5({{ text }}), 2 * byte + 1, 2), 16, 10)
                                    as bigint)) % 10000)
{%- endmacro %}


{# The members of every segments.yml audience: (audience, customer_id) for each row of the `customers` CTE that meets
   the audience's conditions and, where it asks for one, holds its tag in the `tags` CTE (customer_id, tag). #}
{% macro audience_membership(customers, tags) -%}
    {%- set audiences = var('segment_rules').audiences %}
    {%- for audience in audiences %}
    select '{{ audience.name }}' as audience, {{ customers }}.customer_id
    from {{ customers }}
    where {{ audience.sql }}
        {%- if audience.has_tag %}
        and {{ customers }}.customer_id in (select customer_id from {{ tags }} where tag = '{{ audience.has_tag }}')
        {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- if not audiences %}
    select cast(null as varchar) as audience, cast(null as varchar) as customer_id where false
    {%- endif %}
{%- endmacro %}


{#- Why a customer is in a rule's segment: {"rule": code, "values": {column: value, ...}} (JSON). -#}
{% macro rule_reason(code, columns) -%}
    {{ return(adapter.dispatch('rule_reason', 'segments')(code, columns)) }}
{%- endmacro %}

{% macro default__rule_reason(code, columns) -%}
    json_object('rule', {{ sql_string(code) }}, 'values', json_object(
        {%- for column in columns %}'{{ column }}', {{ column }}{{ ", " if not loop.last }}{% endfor %}))
{%- endmacro %}

{#- JSON text on Spark (each rule's values differ, so no one struct type fits them all). -#}
{% macro spark__rule_reason(code, columns) -%}
    to_json(named_struct('rule', {{ sql_string(code) }}, 'values',
        {%- if columns %} named_struct(
        {%- for column in columns %}'{{ column }}', {{ column }}{{ ", " if not loop.last }}{% endfor %})
        {%- else %} map(){% endif %}), map('ignoreNullFields', 'false'))
{%- endmacro %}

{#- Every dimension's reason as one JSON object: the segments.yml dimensions' rule reasons (their `<name>_reason`
    columns), then the built-in dimensions' inputs and thresholds. -#}
{% macro segment_reasons(dimensions) -%}
    {{ return(adapter.dispatch('segment_reasons', 'segments')(dimensions)) }}
{%- endmacro %}

{% macro default__segment_reasons(dimensions) -%}
    cast(json_object(
        {%- for dimension in dimensions %}
        '{{ dimension.name }}', {{ dimension.name }}_reason,
        {%- endfor %}
        {{ built_in_reasons('json_object') }}
    ) as varchar)
{%- endmacro %}

{#- Spark builds the object as a struct; each rule reason (JSON text already) goes in for a placeholder. -#}
{% macro spark__segment_reasons(dimensions) -%}
    {% for dimension in dimensions %}replace({% endfor -%}
    to_json(named_struct(
        {%- for dimension in dimensions %}
        '{{ dimension.name }}', '@reason:{{ dimension.name }}@',
        {%- endfor %}
        {{ built_in_reasons('named_struct') }}
    ), map('ignoreNullFields', 'false'))
    {%- for dimension in dimensions %},
        '"@reason:{{ dimension.name }}@"', coalesce({{ dimension.name }}_reason, 'null')){% endfor %}
{%- endmacro %}

{% macro built_in_reasons(object) -%}
        'value_tier', {{ object }}(
            'monetary', monetary, 'share_of_buyers_ranked_ahead', round(monetary_share_ahead, 4),
            'high_share', {{ var('value_tier_high_share') }}, 'mid_share', {{ var('value_tier_mid_share') }}),
        'lifecycle_stage', {{ object }}(
            'frequency', frequency, 'first_order_date', first_order_date, 'recency_days', recency_days,
            'new_days', {{ var('lifecycle_new_days') }}, 'active_days', {{ var('lifecycle_active_days') }},
            'churn_days', {{ var('lifecycle_churn_days') }}),
        'frequency_group', {{ object }}(
            'frequency', frequency, 'high_min_orders', {{ var('frequency_high_min_orders') }}),
        'rfm_segment', {{ object }}('r_score', r_score, 'f_score', f_score)
{%- endmacro %}


{#- The place of a segment in its dimension's order from lowest to highest (value_tier, lifecycle_stage): a move to a
    lower place is a downgrade, which the grace period holds. -#}
{% macro segment_rank(dimension, segment) -%}
    case {{ dimension }}
        when 'value_tier' then case {{ segment }} when 'low' then 1 when 'mid' then 2 when 'high' then 3 end
        when 'lifecycle_stage' then case {{ segment }}
            when 'prospect' then 1 when 'churned' then 2 when 'silent' then 3 when 'new' then 4 when 'active' then 5 end
    end
{%- endmacro %}
