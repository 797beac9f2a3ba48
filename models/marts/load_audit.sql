-- One row per entity and loaded file version: rows_read = accepted + quarantined + duplicate.
with

files as (
    select * from {{ source('raw', 'load_files') }}
),

quarantine as (
    select * from {{ ref('quarantine') }}
),

{% set entities = var('landed_entities') %}
outcomes as (
    {% for entity in entities %}
    select
        '{{ entity }}' as entity,
        _source_file as source_file,
        _file_hash as file_hash,
        count(*) filter (where outcome = 'accepted') as rows_accepted,
        count(*) filter (where outcome = 'duplicate') as rows_duplicate
    from {{ ref('int_' ~ entity ~ '_triaged') }}
    group by _source_file, _file_hash
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

quarantined as (
    select entity, source_file, file_hash, count(*) as rows_quarantined
    from quarantine
    group by entity, source_file, file_hash
),

audited as (
    select
        files.entity,
        files.source_file,
        files.file_hash,
        files.rows_read,
        coalesce(outcomes.rows_accepted, 0) as rows_accepted,
        coalesce(quarantined.rows_quarantined, 0) as rows_quarantined,
        coalesce(outcomes.rows_duplicate, 0) as rows_duplicate,
        {{ join_list('files.dropped_columns', "','") }} as dropped_columns,
        files.loaded_at
    from files
    left join outcomes
        on files.entity = outcomes.entity
        and files.source_file = outcomes.source_file
        and files.file_hash = outcomes.file_hash
    left join quarantined
        on files.entity = quarantined.entity
        and files.source_file = quarantined.source_file
        and files.file_hash = quarantined.file_hash
)

select * from audited
