{#- Free-text codes -> stable codes. -#}

{% macro normalise_gender(column) -%}
    case
        when lower(trim({{ column }})) in ('m', 'male', 'man', '男', '男性', '先生') then 'male'
        when lower(trim({{ column }})) in ('f', 'female', 'woman', '女', '女性', '女士') then 'female'
        else 'unknown'
    end
{%- endmacro %}

{% macro normalise_code(column) -%}
    lower(nullif(trim({{ column }}), ''))
{%- endmacro %}
