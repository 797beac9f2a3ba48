{#- Fails for every group whose shares do not add up to 1 (within rounding). -#}
{% test shares_sum_to_one(model, column_name, group_by) %}
select {{ group_by }}, sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by }}
having abs(sum({{ column_name }}) - 1) > 1e-9
{% endtest %}
