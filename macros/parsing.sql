{#- Text -> typed value helpers used by staging. Each returns NULL when the text does not parse,
    so that staging can tell "blank" from "unparseable" and quarantine the latter with a reason.
    The shape of each type is checked by a pattern before the cast: DuckDB and Spark cast different texts
    (2024/01/05, 1_000, 0x10, 24:00:00, full-width digits, ...), and only the forms CONTRACT section 1 names
    may give the same value on both. No backslash in a pattern: Spark reads it as a string escape. -#}

{% macro clean_text(column) -%}
    nullif({{ trim_spaces(column) }}, '')
{%- endmacro %}


{#- ISO 8601 with or without offset; no offset means UTC. A naive timestamp in UTC on both engines. An offset
    needs the seconds before it (Spark reads no 04:11Z). -#}
{% macro parse_timestamp(column) -%}
    {%- set shape = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?)?)?$' -%}
    (case when {{ text_matches(clean_text(column), shape) }}
        then {{ adapter.dispatch('utc_timestamp', 'segments')(clean_text(column)) }} end)
{%- endmacro %}

{% macro default__utc_timestamp(text) -%}
    (try_cast({{ text }} as timestamptz) at time zone 'UTC')
{%- endmacro %}

{% macro spark__utc_timestamp(text) -%}
    {#- the session's time zone is UTC (profiles.yml): the instant read as UTC wall time -#}
    cast(try_cast({{ text }} as timestamp) as timestamp_ntz)
{%- endmacro %}

{% macro parse_date(column) -%}
    (case when {{ text_matches(clean_text(column), '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') }}
        then try_cast({{ clean_text(column) }} as date) end)
{%- endmacro %}

{#- Plain or scientific notation, no thousands separators; rounded half away from zero to cents. -#}
{% macro parse_decimal(column) -%}
    (case when {{ text_matches(clean_text(column), '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$') }}
        then try_cast({{ clean_text(column) }} as decimal(18, 2)) end)
{%- endmacro %}

{#- A whole number, written with a zero fraction or not (5, 5.0): 2.5 units is unparseable, not rounded. -#}
{% macro parse_integer(column) -%}
    (case when {{ text_matches(clean_text(column), '^[+-]?[0-9]+([.]0*)?$') }}
        then try_cast(try_cast({{ clean_text(column) }} as decimal(38, 0)) as bigint) end)
{%- endmacro %}

{#- true/false, 1/0, yes/no, y/n, 是/否 (CONTRACT section 1). -#}
{% macro parse_boolean(column) -%}
    case
        when lower({{ trim_spaces(column) }}) in ('true', '1', 'yes', 'y', 't', '是') then true
        when lower({{ trim_spaces(column) }}) in ('false', '0', 'no', 'n', 'f', '否') then false
    end
{%- endmacro %}

{#- Text that is present but does not parse. -#}
{% macro is_unparseable(raw_column, parsed) -%}
    ({{ clean_text(raw_column) }} is not null and {{ parsed }} is null)
{%- endmacro %}

{#- Whether text matches a regular expression (anywhere, unless anchored); NULL for NULL text. Patterns keep to
    what RE2 (DuckDB) and Java (Spark) read alike; `\s` is not one of them (Java's includes the vertical tab). -#}
{% macro text_matches(text, pattern) -%}
    {{ return(adapter.dispatch('text_matches', 'segments')(text, pattern)) }}
{%- endmacro %}

{% macro default__text_matches(text, pattern) -%}
    regexp_matches({{ text }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__text_matches(text, pattern) -%}
    ({{ text }} rlike {{ spark_pattern(pattern) }})
{%- endmacro %}

{#- Every match of a regular expression replaced. -#}
{% macro replace_all(text, pattern, replacement) -%}
    {{ return(adapter.dispatch('replace_all', 'segments')(text, pattern, replacement)) }}
{%- endmacro %}

{% macro default__replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__replace_all(text, pattern, replacement) -%}
    regexp_replace({{ text }}, {{ spark_pattern(pattern) }}, '{{ replacement }}')
{%- endmacro %}

{#- A pattern as a Spark string literal: Spark reads a backslash in a literal as an escape. -#}
{% macro spark_pattern(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") }}'
{%- endmacro %}
