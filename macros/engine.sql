{#- Engine-specific SQL, one macro each (adapter.dispatch picks the engine's version). -#}

{#- A CTE that several parts of a query read, to be read from its source each time rather than copied:
    DuckDB materialises a CTE read more than once (a copy of every row and column selected, which spills under
    the memory cap) unless told not to. Other engines inline CTEs anyway. -#}
{% macro inline_cte() %}{{ return(adapter.dispatch('inline_cte', 'segments')()) }}{% endmacro %}

{% macro default__inline_cte() %}{% endmacro %}

{% macro duckdb__inline_cte() %}not materialized{% endmacro %}

{#- Every column but these: `* exclude (...)` on DuckDB, `* except (...)` on Spark. `relation` qualifies the star. -#}
{% macro star_except(columns, relation=none) -%}
    {{ return(adapter.dispatch('star_except', 'segments')(columns, relation)) }}
{%- endmacro %}

{% macro default__star_except(columns, relation) -%}
    {{ relation ~ '.' if relation }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns, relation) -%}
    {{ relation ~ '.' if relation }}* except ({{ columns | join(', ') }})
{%- endmacro %}

{#- A hash of every column of the row but these: equal rows, equal hashes (within one engine; the texts hashed
    differ between engines, and no hash leaves the model that computes it). -#}
{% macro content_hash(excluded) -%}
    {{ return(adapter.dispatch('content_hash', 'segments')(excluded)) }}
{%- endmacro %}

{% macro default__content_hash(excluded) -%}
    md5(cast(row(*columns(* exclude ({{ excluded | join(', ') }}))) as varchar))
{%- endmacro %}

{#- to_json leaves out NULL fields but names the others, so rows that differ only in which field is NULL differ. -#}
{% macro spark__content_hash(excluded) -%}
    md5(to_json(struct(* except ({{ excluded | join(', ') }}))))
{%- endmacro %}

{#- A row of a relation alias as JSON text: every column by name, NULLs included. -#}
{% macro row_json(alias) -%}
    {{ return(adapter.dispatch('row_json', 'segments')(alias)) }}
{%- endmacro %}

{% macro default__row_json(alias) -%}
    cast(to_json({{ alias }}) as varchar)
{%- endmacro %}

{% macro spark__row_json(alias) -%}
    to_json(struct({{ alias }}.*), map('ignoreNullFields', 'false'))
{%- endmacro %}

{#- The elements of a list joined into one text by a separator. -#}
{% macro join_list(list, separator) -%}
    {{ return(adapter.dispatch('join_list', 'segments')(list, separator)) }}
{%- endmacro %}

{% macro default__join_list(list, separator) -%}
    array_to_string({{ list }}, {{ separator }})
{%- endmacro %}

{% macro spark__join_list(list, separator) -%}
    array_join({{ list }}, {{ separator }})
{%- endmacro %}

{#- dbt-spark's seed loader, with its values written as literals: its session connection pastes the values into
    the statement unescaped (a seed text with an apostrophe breaks it) and writes NULL as 'None'. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
            ({%- for value in row -%}
                {%- set type = column_override.get(agate_table.column_names[loop.index0],
                                                   adapter.convert_type(agate_table, loop.index0)) -%}
                {%- if value is none -%}
                cast(null as {{ type }})
                {%- else -%}
                cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                {%- endif -%}
                {{ "," if not loop.last }}
            {%- endfor -%}){{ "," if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) if loop.first -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- A timestamp as text, to the microsecond: 2026-12-05 09:25:56.517810. -#}
{% macro timestamp_text(expression) -%}
    {{ return(adapter.dispatch('timestamp_text', 'segments')(expression)) }}
{%- endmacro %}

{% macro default__timestamp_text(expression) -%}
    strftime({{ expression }}, '%Y-%m-%d %H:%M:%S.%f')
{%- endmacro %}

{% macro spark__timestamp_text(expression) -%}
    date_format({{ expression }}, 'yyyy-MM-dd HH:mm:ss.SSSSSS')
{%- endmacro %}
