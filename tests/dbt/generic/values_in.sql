{#- Fails for every row whose column holds a value outside `values` (NULL passes, as with accepted_values). The
    column is named in the arguments and quoted here, so the test's id is the same on every engine. -#}
{% test values_in(model, column, values) %}
select {{ adapter.quote(column) }} as value
from {{ model }}
where {{ adapter.quote(column) }} not in ({% for value in values %}{{ sql_string(value) }}{{ ", " if not loop.last }}{% endfor %})
{% endtest %}
