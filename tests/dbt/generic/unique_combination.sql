{#- Fails for every combination of the columns that occurs more than once (a compound key). Column names are quoted
    for the engine (`group` is a keyword; "group" is a string literal on Spark). -#}
{% test unique_combination(model, columns) %}
{%- set quoted = [] %}{% for column in columns %}{% do quoted.append(adapter.quote(column)) %}{% endfor %}
select {{ quoted | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ quoted | join(', ') }}
having count(*) > 1
{% endtest %}
