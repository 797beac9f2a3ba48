{#- The columns orchestration/landing.py adds to every raw row: where it came from and when. -#}
{% macro landing_metadata() -%}
    _source_file, _file_hash, _row_number, _loaded_at
{%- endmacro %}
