{#- Give every staged row exactly one outcome, so that rows read = accepted + quarantined + duplicate:
    - duplicate: the row belongs to an older version of its file (same name, loaded again changed),
      or is an older or identical version of a key that has an accepted row;
    - quarantined: it broke a rule (reject_reason), or it has the same key and the same updated_at
      as the accepted row but different content (conflicting_duplicate);
    - accepted: the latest valid version of its key (latest updated_at, then load, file, row).
    `relation` holds the rows to triage (every version of their keys); `staged` is the staging table (not a CTE
    over it), whose newest load of each file name is the current version of that file. Neither is read twice:
    DuckDB materialises a CTE read twice, and at 100M orders each wide copy spilled ~20 GB. -#}
{% macro triage_versions(relation, key, staged, has_updated_at=true) -%}
    {%- set version_order -%}
        {% if has_updated_at %}updated_at desc nulls last,{% endif %}
        _loaded_at desc, _source_file desc, _row_number desc
    {%- endset -%}
    with current_files as (
        select _source_file, max(_loaded_at) as _current_loaded_at
        from {{ staged }}
        group by _source_file
    ),

    versioned as (
        select
            {{ relation }}.*,
            {{ relation }}._loaded_at = current_files._current_loaded_at as _is_current_file
        from {{ relation }}
        inner join current_files on {{ relation }}._source_file = current_files._source_file
    ),

    hashed as (
        select
            *,
            {{ content_hash(['_source_file', '_file_hash', '_row_number', '_loaded_at', 'reject_reason',
                             '_is_current_file']) }} as _content_hash
        from versioned
    ),

    ranked as (
        select
            *,
            row_number() over candidates as _version_rank,
            first_value(_content_hash) over candidates as _winner_hash,
            {% if has_updated_at %}
            first_value(updated_at) over candidates as _winner_updated_at
            {% else %}
            cast(null as timestamp) as _winner_updated_at
            {% endif %}
        from hashed
        window candidates as (
            partition by {{ key }}, (reject_reason is null and _is_current_file)
            order by {{ version_order }}
        )
    ),

    labelled as (
        select
            *,
            not _is_current_file as _is_superseded_file,
            _is_current_file
                and reject_reason is null
                and _version_rank > 1
                and _content_hash != _winner_hash
                {% if has_updated_at %}and updated_at is not distinct from _winner_updated_at{% endif %}
                as _is_conflict
        from ranked
    )

    select
        {{ star_except(['reject_reason', '_content_hash', '_is_current_file', '_version_rank', '_winner_hash',
                        '_winner_updated_at', '_is_superseded_file', '_is_conflict']) }},
        case
            when _is_superseded_file then null
            when _is_conflict then 'conflicting_duplicate'
            else reject_reason
        end as reject_reason,
        case
            when _is_superseded_file then 'duplicate'
            when reject_reason is not null or _is_conflict then 'quarantined'
            when _version_rank = 1 then 'accepted'
            else 'duplicate'
        end as outcome,
        {{ load_batch() }} as _batch
    from labelled
{%- endmacro %}

{#- Keep the staging reason, else reject a row whose key has no accepted parent row (an orphan).
    A blank key is allowed only when allow_blank (an anonymous web visitor). -#}
{% macro reject_orphans(staged, parents, key, reason, allow_blank=false) -%}
    select
        {{ star_except(['reject_reason'], staged) }},
        case
            when {{ staged }}.reject_reason is not null then {{ staged }}.reject_reason
            when {% if allow_blank %}{{ staged }}.{{ key }} is not null and {% endif %}parents.{{ key }} is null
                then '{{ reason }}'
        end as reject_reason
    from {{ staged }}
    -- only the parents the rows name: an incremental batch need not hash every accepted parent (a full build
    -- names them all, and reading its rows twice would materialise them)
    left join (
        select distinct {{ key }} from {{ parents }}
        where outcome = 'accepted'{% if is_incremental() %} and {{ key }} in (select {{ key }} from {{ staged }}){% endif %}
    ) as parents
        on {{ staged }}.{{ key }} = parents.{{ key }}
{%- endmacro %}
