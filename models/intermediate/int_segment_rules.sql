-- One row per rule of the segments.yml dimensions, in rule order: labels, description and the
-- recommended action, as compiled by orchestration/rules.py.
with

rules as (
    select * from (
        values
        {%- for dimension in var('segment_rules').dimensions %}
        {%- set outer_loop = loop %}
        {%- for rule in dimension.rules %}
        (
            {{ sql_string(dimension.name) }}, {{ loop.index }},
            {{ sql_string(rule.code) }},
            {{ sql_string(rule.label_en) }},
            {{ sql_string(rule.label_zh) }},
            {{ sql_string(rule.description) }},
            {{ sql_string(rule.action) }}
        ){{ "," if not (loop.last and outer_loop.last) }}
        {%- endfor %}
        {%- endfor %}
    ) as t(dimension, rule_order, segment, label_en, label_zh, description, recommended_action)
)

select * from rules
