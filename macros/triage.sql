{#- Give every staged row exactly one outcome, so that rows read = accepted + quarantined + duplicate:
    - quarantined: it broke a rule (reject_reason is set);
    - accepted: the latest valid version of its key (latest updated_at, then latest load, file, row);
    - duplicate: an older or repeated valid version of a key that has an accepted row. -#}
{% macro triage_versions(relation, key, has_updated_at=true) -%}
    select
        *,
        case
            when reject_reason is not null then 'quarantined'
            when row_number() over (
                partition by {{ key }}, reject_reason is null
                order by
                    {% if has_updated_at %}updated_at desc nulls last,{% endif %}
                    _loaded_at desc, _source_file desc, _row_number desc
            ) = 1 then 'accepted'
            else 'duplicate'
        end as outcome
    from {{ relation }}
{%- endmacro %}
