{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='snapshot_date',
          full_refresh=false, on_schema_change='sync_all_columns') }}
{%- set dimensions = history_dimensions() %}

-- The segments of every day the pipeline was run as of, or backfilled (`segments backfill`): one row per customer
-- and evaluated day. Each run replaces the rows of its as-of date (a rerun of a date is idempotent), and the rows
-- of other days stay: this is the memory segment_history builds on, so a full refresh leaves it alone (the rows
-- were derived from landing files that may be gone). `segments forget` erases from it like from every table.
select
    snapshot_date,
    customer_id,
    {%- for dimension in dimensions %}
    {{ dimension }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ ref('int_customers_segmented') }}
where is_current
