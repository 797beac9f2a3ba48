{#- Text -> typed value helpers used by staging. Each returns NULL when the text does not parse,
    so that staging can tell "blank" from "unparseable" and quarantine the latter with a reason. -#}

{% macro clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- ISO 8601 with or without offset; no offset means UTC (the session TimeZone is UTC). -#}
{% macro parse_timestamp(column) -%}
    (try_cast(nullif(trim({{ column }}), '') as timestamptz) at time zone 'UTC')
{%- endmacro %}

{% macro parse_date(column) -%}
    try_cast(nullif(trim({{ column }}), '') as date)
{%- endmacro %}

{% macro parse_decimal(column) -%}
    try_cast(nullif(trim({{ column }}), '') as decimal(18, 2))
{%- endmacro %}

{% macro parse_integer(column) -%}
    try_cast(nullif(trim({{ column }}), '') as bigint)
{%- endmacro %}

{#- true/false, 1/0, yes/no, y/n, 是/否 (CONTRACT section 1). -#}
{% macro parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', '1', 'yes', 'y', 't', '是') then true
        when lower(trim({{ column }})) in ('false', '0', 'no', 'n', 'f', '否') then false
    end
{%- endmacro %}

{#- Text that is present but does not parse. -#}
{% macro is_unparseable(raw_column, parsed) -%}
    ({{ clean_text(raw_column) }} is not null and {{ parsed }} is null)
{%- endmacro %}
