-- Every rejected row with its reason and its original values, direct identifiers shown as their pseudonyms.
-- CONTRACT section 2 names it `quarantine`, so it lives in the warehouse's default schema.
{{ config(schema='main') }}
with

malformed as (
    select
        {{ star_except(['original_record', 'redacted_record']) }},
        -- a line withheld (protected columns it cannot be aligned with, an erased customer) says why instead
        coalesce(redacted_record, error_message) as original_record
    from {{ source('raw', 'malformed_rows') }}
),

{% set entities = var('landed_entities') %}
{% for entity in entities %}
{{ entity }}_rejected as (
    select
        '{{ entity }}' as entity,
        triaged._source_file as source_file,
        triaged._file_hash as file_hash,
        triaged._row_number as row_number,
        cast(null as bigint) as line,
        triaged.reject_reason as reason,
        {{ row_json('source') }} as original_record,
        triaged._loaded_at as loaded_at
    from {{ ref('int_' ~ entity ~ '_triaged') }} as triaged
    inner join {{ pseudonymised(source('raw', entity)) }} as source
        on triaged._source_file = source._source_file
        and triaged._file_hash = source._file_hash
        and triaged._row_number = source._row_number
    where triaged.outcome = 'quarantined'
),
{% endfor %}

unioned as (
    {% for entity in entities %}
    select * from {{ entity }}_rejected
    union all
    {% endfor %}
    select
        entity,
        source_file,
        file_hash,
        cast(null as bigint) as row_number,
        line,
        reason,
        original_record,
        loaded_at
    from malformed
)

select * from unioned
