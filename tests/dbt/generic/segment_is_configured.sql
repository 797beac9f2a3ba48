{#- Fails for every row whose segment is not one of the codes segments.yml gives the dimension. -#}
{% test segment_is_configured(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is null
    or {{ column_name }} not in (
        select segment from {{ ref('int_segment_rules') }} where dimension = '{{ column_name }}'
    )
{% endtest %}
