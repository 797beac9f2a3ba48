{#- The run's as-of date: one row computed by int_as_of_date, referenced wherever a window is measured. -#}
{% macro as_of_date() -%}
    (select as_of_date from {{ ref('int_as_of_date') }})
{%- endmacro %}

{#- Rank score 1..buckets: rank() gives tied values the same (lowest) position, so ties share one score
    and the result never depends on row order. Higher expression = higher score. -#}
{% macro rank_score(expression) -%}
    1 + floor(
        {{ var('score_buckets') }} * (rank() over (order by {{ expression }}) - 1)
        / count(*) over ()
    )::integer
{%- endmacro %}

{#- Share of the population ranked strictly ahead of this row (0 for the best), descending by expression. -#}
{% macro share_ranked_ahead(expression) -%}
    (rank() over (order by {{ expression }} desc) - 1)::double / count(*) over ()
{%- endmacro %}
