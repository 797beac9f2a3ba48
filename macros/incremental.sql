{#- Incremental runs: staging parses only rows of newly loaded files, triage re-ranks only the keys those rows
    (or a parent whose outcome may have changed) touch, and the daily aggregates recompute only the customers
    whose orders were re-triaged. Every incremental model gives the same rows as a full rebuild
    (tests/test_incremental.py); `segments run --full-refresh` rebuilds them all. -#}

{#- The batch stamp of this run: the time of the latest load. Every row an incremental model (re)writes carries it,
    so a downstream model finds what changed since its own last build as rows stamped after its newest stamp. -#}
{% macro load_batch() -%}
    (select max(loaded_at) from {{ source('raw', 'load_files') }})
{%- endmacro %}

{#- The config of a model whose incremental runs replace the rows of the keys they touch.
    DuckDB: delete+insert by `unique_key`. Spark's tables here are Parquet, which cannot delete rows (MERGE needs
    Delta or Iceberg, whose jars come from Maven, not PyPI): the table is partitioned by a hash bucket of the model's
    business key (`_bucket`, key_bucket), a run recomputes every key of each bucket it touches, and insert_overwrite
    replaces those partitions. Both give the rows of a full build (tests/test_incremental.py, tests/test_spark.py).
    A model whose runs also delete rows (`deletes`) is rebuilt whole on Spark: an emptied bucket would not be
    overwritten. -#}
{% macro keyed_incremental(unique_key, deletes=false) -%}
    {{ return(adapter.dispatch('keyed_incremental', 'segments')(unique_key, deletes)) }}
{%- endmacro %}

{% macro default__keyed_incremental(unique_key, deletes) -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'delete+insert', 'unique_key': unique_key}) }}
{%- endmacro %}

{% macro spark__keyed_incremental(unique_key, deletes) -%}
    {%- if deletes -%}
        {{ return({'materialized': 'table'}) }}
    {%- endif -%}
    {{ return({'materialized': 'incremental', 'incremental_strategy': 'insert_overwrite',
               'partition_by': ['_bucket']}) }}
{%- endmacro %}

{#- Whether incremental runs recompute whole buckets of keys (Spark) rather than the keys they touch (DuckDB). -#}
{% macro overwrites_buckets() -%}
    {{ return(adapter.dispatch('overwrites_buckets', 'segments')()) }}
{%- endmacro %}

{% macro default__overwrites_buckets() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro spark__overwrites_buckets() -%}
    {{ return(true) }}
{%- endmacro %}

{#- The bucket of a key (one or more columns, comma-separated): 0 .. spark_key_buckets - 1. -#}
{% macro key_bucket(key) -%}
    pmod(xxhash64({{ key }}), {{ var('spark_key_buckets') }})
{%- endmacro %}

{#- The partition column a keyed model's select ends with on Spark (nothing on DuckDB). -#}
{% macro bucket_column(key) -%}
    {%- if overwrites_buckets() %}, {{ key_bucket(key) }} as _bucket{% endif -%}
{%- endmacro %}

{#- Every column of a keyed model's table but its Spark partition column: what a model reading one selects. -#}
{% macro keyed_star(relation=none) -%}
    {%- if overwrites_buckets() -%}
        {{ star_except(['_bucket'], relation) }}
    {%- else -%}
        {{ relation ~ '.' if relation }}*
    {%- endif -%}
{%- endmacro %}

{#- The newest value of a column in this model's own table; before the first build, earlier than everything. -#}
{% macro watermark(column) -%}
    coalesce((select max({{ column }}) from {{ this }}), cast('0001-01-01 00:00:00' as timestamp))
{%- endmacro %}

{#- Staging: in an incremental run, only the raw rows loaded after the newest staged row. -#}
{% macro only_new_loads() -%}
    {%- if is_incremental() %}
    where _loaded_at > {{ watermark('_loaded_at') }}
    {%- endif %}
{%- endmacro %}

{#- Triage batch of an incremental run: every staged version of each key that is touched by
    - a newly staged row,
    - a row of an older version of a file loaded again (that version now counts as duplicate), or
    - a child row whose parent key was re-triaged since this model's last build (its orphan check may flip);
    plus the new and superseded rows themselves (a row without a key has no other versions).
    A full build takes every staged row. -#}
{% macro triage_batch(staged, key, parent=none) -%}
    {%- if is_incremental() -%}
    (
        with new_rows as (
            select * from {{ staged }} where _loaded_at > {{ watermark('_loaded_at') }}
        ),

        touched as (
            select * from new_rows
            union all
            select * from {{ staged }}
            where _source_file in (select _source_file from new_rows)
                and _loaded_at <= {{ watermark('_loaded_at') }}
        ),

        keys as (
            select {{ key }} from touched
            {%- if parent %}
            union
            select {{ key }} from {{ staged }}
            where {{ parent[1] }} in (
                select {{ parent[1] }} from {{ parent[0] }} where _batch > {{ watermark('_batch') }}
            )
            {%- endif %}
        )

        {%- if overwrites_buckets() %}
        -- every version of every key in the touched keys' buckets (a touched row's bucket is among them)
        select * from {{ staged }}
        where {{ key_bucket(key) }} in (select {{ key_bucket(key) }} from keys)
        {%- else %}
        select * from {{ staged }} where ({{ key }}) in (select * from keys)
        union
        select * from touched
        {%- endif %}
    )
    {%- else -%}
    {{ staged }}
    {%- endif -%}
{%- endmacro %}

{#- Tests on rows each run rewrites (triage, and the orders converted from them) check only the rows stamped by
    the latest load: the others were checked when they were written and have not changed since. That is exact
    even for uniqueness and relationships: a run re-triages every version of a key it touches, and every child
    of a parent it re-triages. A full refresh stamps every row, so it tests them all. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set conditions = [where] if where else [] -%}
    {%- if relation.identifier in var('tested_on_new_rows', []) -%}
        {%- do conditions.append('_batch = (select max(loaded_at) from raw.load_files)') -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return('(select * from ' ~ relation ~ ' where (' ~ conditions | join(') and (') ~ ')) dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- Touched customers of a daily aggregate: every landed customer id of `triaged` in a full build; in an incremental
    run those whose rows were re-triaged since this model's last build, or that match `also` (a condition on
    `triaged`'s columns, for inputs the aggregate reads besides it). -#}
{% macro touched_customers(triaged, also=none) -%}
    select distinct customer_id from {{ triaged }}
    where customer_id is not null
    {%- if is_incremental() and overwrites_buckets() %}
        -- every customer of the touched customers' buckets
        and {{ key_bucket('customer_id') }} in (
            select {{ key_bucket('customer_id') }} from {{ triaged }}
            where customer_id is not null
                and (_batch > {{ watermark('_batch') }}{% if also %} or {{ also }}{% endif %})
        )
    {%- elif is_incremental() %}
        and (_batch > {{ watermark('_batch') }}{% if also %} or {{ also }}{% endif %})
    {%- endif %}
{%- endmacro %}

{#- Rows of a per-customer daily aggregate for the person (canonical id) and the first snapshot that counts them:
    the earliest snapshot date on or after `date_column`. A snapshot's figures are the sum of its own rows and all
    earlier ones; rows after the as-of date and the NULL-dated row of a customer without any find no snapshot. -#}
{% macro at_first_snapshot(relation, date_column) -%}
    (
        select
            {{ star_except(['customer_id', '_bucket'] if overwrites_buckets() else ['customer_id'], 'daily') }},
            identities.canonical_customer_id as customer_id,
            first_snapshots.snapshot_date as first_snapshot_date
        from {{ relation }} as daily
        inner join {{ ref('int_customers_merged') }} as identities on daily.customer_id = identities.customer_id
        {{ first_snapshot_join('daily.' ~ date_column, 'first_snapshots') }}
    )
{%- endmacro %}

{#- Joins the earliest snapshot date on or after `date_expression` as `alias` (an inner join: rows after the last
    snapshot find none). DuckDB: an as-of join. Spark has none: each snapshot's span after the one before it. -#}
{% macro first_snapshot_join(date_expression, alias) -%}
    {{ return(adapter.dispatch('first_snapshot_join', 'segments')(date_expression, alias)) }}
{%- endmacro %}

{% macro default__first_snapshot_join(date_expression, alias) -%}
    asof inner join {{ ref('int_snapshot_dates') }} as {{ alias }}
        on {{ date_expression }} <= {{ alias }}.snapshot_date
{%- endmacro %}

{% macro spark__first_snapshot_join(date_expression, alias) -%}
    inner join (
        select snapshot_date, lag(snapshot_date) over (order by snapshot_date) as previous_snapshot_date
        from {{ ref('int_snapshot_dates') }}
    ) as {{ alias }}
        on {{ date_expression }} <= {{ alias }}.snapshot_date
        and ({{ alias }}.previous_snapshot_date is null or {{ date_expression }} > {{ alias }}.previous_snapshot_date)
{%- endmacro %}


{#- The incremental config of a model whose runs replace whole days: delete+insert by the day on DuckDB; on Spark,
    a table partitioned by the day whose partitions a run overwrites (insert_overwrite, dynamic partitions). -#}
{% macro replace_by_day(day_column) -%}
    {{ return(adapter.dispatch('replace_by_day', 'segments')(day_column)) }}
{%- endmacro %}

{% macro default__replace_by_day(day_column) -%}
    {{ return({'incremental_strategy': 'delete+insert', 'unique_key': day_column}) }}
{%- endmacro %}

{% macro spark__replace_by_day(day_column) -%}
    {{ return({'incremental_strategy': 'insert_overwrite', 'partition_by': [day_column]}) }}
{%- endmacro %}
