{#- Keyed hash of a direct identifier: sha256(key || sha256(key || value)), the same as
    orchestration/privacy.py keyed_hash. The key is a session variable set by orchestration/dbt_plugin.py,
    so it never appears in SQL, the manifest or the logs; a run without it fails instead of hashing with NULL. -#}
{% macro pseudonym(expression) -%}
    case when {{ expression }} is not null then {{ sha256_hex(
        pseudonym_key() ~ ' || ' ~ sha256_hex(pseudonym_key() ~ ' || ' ~ expression)) }} end
{%- endmacro %}

{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'segments')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}

{% macro spark__sha256_hex(expression) -%}
    sha2({{ expression }}, 256)
{%- endmacro %}

{% macro pseudonym_key() -%}
    {{ return(adapter.dispatch('pseudonym_key', 'segments')()) }}
{%- endmacro %}

{% macro default__pseudonym_key() -%}
    coalesce(getvariable('segments_pseudonym_key'), error('SEGMENTS_PSEUDONYM_KEY is not set on this connection'))
{%- endmacro %}

{#- Spark substitutes the environment variable into the statement it runs (spark.sql.variable.substitute); dbt's
    compiled SQL and logs hold only its name. orchestration/spark.py refuses a key that would end the literal. -#}
{% macro spark__pseudonym_key() -%}
    '${env:SEGMENTS_PSEUDONYM_KEY}'
{%- endmacro %}

{#- The relation with every direct-identifier column (name, email, phone, address, ... as
    orchestration/contract.py PII_COLUMN matches them) replaced by its pseudonym, and every timestamp (the load time)
    written out to the microsecond: how quarantine shows a row, the same text on every engine. -#}
{% macro pseudonymised(relation) -%}
    {%- set pattern = '(^|_)(name|names|email|e_mail|mail|phone|mobile|tel|telephone|address|street)(_|$)|姓名|电话|手机|邮箱|地址' -%}
    {%- set identifying = [] -%}
    {%- set columns = adapter.get_columns_in_relation(relation) if execute else [] -%}
    {%- if execute -%}
        {%- for column in columns -%}
            {%- if column.name not in ('product_name', 'column_name') and modules.re.search(pattern, column.name | lower) -%}
                {%- do identifying.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {#- every column named: `* replace (...)` is DuckDB's own -#}
    (select
        {%- for column in columns %}
        {% if column.name in identifying -%}
        {{ pseudonym(adapter.quote(column.name)) }} as {{ adapter.quote(column.name) }}
        {%- elif 'timestamp' in column.dtype | lower -%}
        {{ timestamp_text(adapter.quote(column.name)) }} as {{ adapter.quote(column.name) }}
        {%- else -%}
        {{ adapter.quote(column.name) }}
        {%- endif %}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ relation }})
{%- endmacro %}
