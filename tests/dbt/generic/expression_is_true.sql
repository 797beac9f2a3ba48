{#- Fails for every row where the expression does not hold (an invariant as a test). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
