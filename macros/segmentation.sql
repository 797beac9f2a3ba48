{#- Rank score 1..buckets: rank() gives tied values the same (lowest) position, so ties share one score
    and the result never depends on row order. Higher expression = higher score. -#}
{% macro rank_score(expression, partition_by=none) -%}
    {%- set window = ("partition by " ~ partition_by ~ " " if partition_by else "") -%}
    1 + floor(
        {{ var('score_buckets') }} * (rank() over ({{ window }}order by {{ expression }}) - 1)
        / count(*) over ({{ window }})
    )::integer
{%- endmacro %}

{#- Share of the population ranked strictly ahead of this row (0 for the best), descending by expression. -#}
{% macro share_ranked_ahead(expression, partition_by=none) -%}
    {%- set window = ("partition by " ~ partition_by ~ " " if partition_by else "") -%}
    (rank() over ({{ window }}order by {{ expression }} desc) - 1)::double / count(*) over ({{ window }})
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
    (md5_number({{ audience }} || ':' || {{ customer_id }}) % 10000 < {{ var('audience_holdout_share') }} * 10000)
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
