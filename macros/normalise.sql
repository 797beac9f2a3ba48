{#- Free-text codes -> stable codes. -#}

{% macro normalise_gender(column) -%}
    case
        when lower({{ trim_spaces(column) }}) in ('m', 'male', 'man', '男', '男性', '先生') then 'male'
        when lower({{ trim_spaces(column) }}) in ('f', 'female', 'woman', '女', '女性', '女士') then 'female'
        else 'unknown'
    end
{%- endmacro %}

{% macro normalise_code(column) -%}
    lower(nullif({{ trim_spaces(column) }}, ''))
{%- endmacro %}

{#- Lower-cased address when it looks like one (local@domain.tld), else NULL. Whitespace is spelled out: RE2's and
    Java's `\s` differ (Java's holds the vertical tab). -#}
{% macro normalise_email(column) -%}
    case
        when {{ text_matches('lower(' ~ trim_spaces(column) ~ ')', '^[^@ \\t\\n\\f\\r]+@[^@ \\t\\n\\f\\r]+[.][a-z]{2,}$') }}
            then lower({{ trim_spaces(column) }})
    end
{%- endmacro %}

{#- One phone format, E.164: +<country><number>; an 11-digit number starting with 1 is a
    mainland China mobile (+86). Anything else that is not 8-15 digits is NULL. -#}
{% macro normalise_phone(column) -%}
    case
        when {{ text_matches(phone_e164(column), '^[+][1-9][0-9]{7,14}$') }} then {{ phone_e164(column) }}
    end
{%- endmacro %}

{% macro phone_e164(column) -%}
    case
        when {{ trim_spaces(column) }} like '+%'
            then '+' || {{ replace_all(column, '[^0-9]', '') }}
        when {{ replace_all(column, '[^0-9]', '') }} like '00%'
            then '+' || substr({{ replace_all(column, '[^0-9]', '') }}, 3)
        when {{ text_matches(replace_all(column, '[^0-9]', ''), '^1[3-9][0-9]{9}$') }}
            then '+86' || {{ replace_all(column, '[^0-9]', '') }}
        when {{ text_matches(replace_all(column, '[^0-9]', ''), '^861[3-9][0-9]{9}$') }}
            then '+' || {{ replace_all(column, '[^0-9]', '') }}
        else '+' || {{ replace_all(column, '[^0-9]', '') }}
    end
{%- endmacro %}

{#- 北京市 -> 北京, 广东省 -> 广东, 广西壮族自治区 -> 广西; Latin names keep their words, trimmed. -#}
{% macro normalise_region(column) -%}
    nullif(
        {{ replace_all(replace_all(trim_spaces(column), '[ \\t\\n\\f\\r]+', ' '),
                       '(?:省|市|特别行政区|壮族自治区|回族自治区|维吾尔自治区|自治区)$', '') }},
        ''
    )
{%- endmacro %}
