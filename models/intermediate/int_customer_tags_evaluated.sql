-- One row per customer, tag and snapshot date at which the tag's rule (segments.yml) holds.
with

segmented as {{ inline_cte() }} (
    -- each tag scans only the columns it reads; a copy of every segmented row cost ~40 % under memory pressure
    select * from {{ ref('int_customers_segmented') }}
),

evaluated as (
    {%- for tag in var('segment_rules').tags %}
    select
        customer_id,
        snapshot_date,
        {%- if tag.from_column %}
        '{{ tag.code }}:' || lower(cast({{ adapter.quote(tag.from_column) }} as {{ dbt.type_string() }})) as tag,
        {%- else %}
        '{{ tag.code }}' as tag,
        {%- endif %}
        '{{ tag.tag_type }}' as tag_type,
        {{ tag.expires_after_days }} as expires_after_days
    from segmented
    where {{ tag.sql }}{% if tag.from_column %} and {{ adapter.quote(tag.from_column) }} is not null{% endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from evaluated
