{{ config(materialized='incremental', full_refresh=false, on_schema_change='sync_all_columns',
          **replace_by_day('snapshot_date')) }}
{%- set dimensions = history_dimensions() %}

-- The segments of every day the pipeline was run as of, or backfilled (`segments backfill`): one row per customer
-- and evaluated day. Each run replaces the rows of its as-of date (a rerun of a date is idempotent), and the rows
-- of other days stay: this is the memory segment_history builds on, so a full refresh leaves it alone (the rows
-- were derived from landing files that may be gone). `segments forget` erases from it like from every table.
select
    customer_id,
    {%- for dimension in dimensions %}
    {{ dimension }},
    {%- endfor %}
    -- last: Spark's partition column
    snapshot_date
from {{ ref('int_customers_segmented') }}
where is_current
