{#- Keyed hash of a direct identifier: sha256(key || sha256(key || value)), the same as
    orchestration/privacy.py keyed_hash. The key is a session variable set by orchestration/dbt_plugin.py,
    so it never appears in SQL, the manifest or the logs; a run without it fails instead of hashing with NULL. -#}
{% macro pseudonym(expression) -%}
    case when {{ expression }} is not null then sha256(
        {{ pseudonym_key() }} || sha256({{ pseudonym_key() }} || {{ expression }})
    ) end
{%- endmacro %}

{% macro pseudonym_key() -%}
    coalesce(getvariable('segments_pseudonym_key'), error('SEGMENTS_PSEUDONYM_KEY is not set on this connection'))
{%- endmacro %}

{#- The relation with every direct-identifier column (name, email, phone, address, ... as
    orchestration/contract.py PII_COLUMN matches them) replaced by its pseudonym: how quarantine shows a row. -#}
{% macro pseudonymised(relation) -%}
    {%- set pattern = '(^|_)(name|names|email|e_mail|mail|phone|mobile|tel|telephone|address|street)(_|$)|姓名|电话|手机|邮箱|地址' -%}
    {%- set identifying = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name not in ('product_name', 'column_name') and modules.re.search(pattern, column.name | lower) -%}
                {%- do identifying.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    (select *
        {%- if identifying %} replace (
            {%- for column in identifying %}
            {{ pseudonym(adapter.quote(column)) }} as {{ adapter.quote(column) }}{{ "," if not loop.last }}
            {%- endfor %}
        ){%- endif %}
    from {{ relation }})
{%- endmacro %}
