{#- The columns orchestration/landing.py adds to every raw row: where it came from and when. -#}
{% macro landing_metadata() -%}
    _source_file, _file_hash, _row_number, _loaded_at
{%- endmacro %}

{#- The raw tables orchestration/landing.py writes: one per landed entity and its bookkeeping tables. -#}
{% macro raw_tables() -%}
    {{ return(var('landed_entities') + ['load_files', 'erasures', 'erased_keys', 'malformed_rows']) }}
{%- endmacro %}

{#- Before a build (on-run-start): make the landed rows readable as source('raw', ...). On DuckDB the loader writes
    them into the warehouse itself. On Spark the loader exports each raw table as Parquet under the engine's
    directory (orchestration/spark.py), and the raw database holds external tables over those files. -#}
{% macro attach_landing() -%}
    {{ return(adapter.dispatch('attach_landing', 'segments')()) }}
{%- endmacro %}

{% macro default__attach_landing() -%}
    select 1
{%- endmacro %}

{% macro spark__attach_landing() -%}
    {%- if execute -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for table in raw_tables() -%}
            {%- do run_query('create table if not exists raw.' ~ table ~ ' using parquet location '
                             ~ "'" ~ env_var('SEGMENTS_SPARK_DIR') ~ '/raw/' ~ table ~ "'") -%}
            {#- the loader rewrote the files since the session last listed them -#}
            {%- do run_query('refresh table raw.' ~ table) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
