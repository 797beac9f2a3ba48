{#- Engine-specific SQL, one macro each (adapter.dispatch picks the engine's version). -#}

{#- A CTE that several parts of a query read, to be read from its source each time rather than copied:
    DuckDB materialises a CTE read more than once (a copy of every row and column selected, which spills under
    the memory cap) unless told not to. Other engines inline CTEs anyway. -#}
{% macro inline_cte() %}{{ return(adapter.dispatch('inline_cte', 'segments')()) }}{% endmacro %}

{% macro default__inline_cte() %}{% endmacro %}

{% macro duckdb__inline_cte() %}not materialized{% endmacro %}

{#- Every column but these: `* exclude (...)` on DuckDB, `* except (...)` on Spark. `relation` qualifies the star. -#}
{% macro star_except(columns, relation=none) -%}
    {{ return(adapter.dispatch('star_except', 'segments')(columns, relation)) }}
{%- endmacro %}

{% macro default__star_except(columns, relation) -%}
    {{ relation ~ '.' if relation }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns, relation) -%}
    {{ relation ~ '.' if relation }}* except ({{ columns | join(', ') }})
{%- endmacro %}

{#- A hash of every column of the row but these: equal rows, equal hashes (within one engine; the texts hashed
    differ between engines, and no hash leaves the model that computes it). -#}
{% macro content_hash(excluded) -%}
    {{ return(adapter.dispatch('content_hash', 'segments')(excluded)) }}
{%- endmacro %}

{% macro default__content_hash(excluded) -%}
    md5(cast(row(*columns(* exclude ({{ excluded | join(', ') }}))) as varchar))
{%- endmacro %}

{#- to_json leaves out NULL fields but names the others, so rows that differ only in which field is NULL differ. -#}
{% macro spark__content_hash(excluded) -%}
    md5(to_json(struct(* except ({{ excluded | join(', ') }}))))
{%- endmacro %}

{#- A row of a relation alias as JSON text: every column by name, NULLs included. -#}
{% macro row_json(alias) -%}
    {{ return(adapter.dispatch('row_json', 'segments')(alias)) }}
{%- endmacro %}

{% macro default__row_json(alias) -%}
    cast(to_json({{ alias }}) as varchar)
{%- endmacro %}

{% macro spark__row_json(alias) -%}
    to_json(struct({{ alias }}.*), map('ignoreNullFields', 'false'))
{%- endmacro %}

{#- The elements of a list joined into one text by a separator. -#}
{% macro join_list(list, separator) -%}
    {{ return(adapter.dispatch('join_list', 'segments')(list, separator)) }}
{%- endmacro %}

{% macro default__join_list(list, separator) -%}
    array_to_string({{ list }}, {{ separator }})
{%- endmacro %}

{% macro spark__join_list(list, separator) -%}
    array_join({{ list }}, {{ separator }})
{%- endmacro %}

{#- dbt-spark's seed loader, with its values written as literals: its session connection pastes the values into
    the statement unescaped (a seed text with an apostrophe breaks it) and writes NULL as 'None'. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
            ({%- for value in row -%}
                {%- set type = column_override.get(agate_table.column_names[loop.index0],
                                                   adapter.convert_type(agate_table, loop.index0)) -%}
                {%- if value is none -%}
                cast(null as {{ type }})
                {%- else -%}
                cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                {%- endif -%}
                {{ "," if not loop.last }}
            {%- endfor -%}){{ "," if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) if loop.first -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- A timestamp as text, to the microsecond: 2026-12-05 09:25:56.517810. -#}
{% macro timestamp_text(expression) -%}
    {{ return(adapter.dispatch('timestamp_text', 'segments')(expression)) }}
{%- endmacro %}

{% macro default__timestamp_text(expression) -%}
    strftime({{ expression }}, '%Y-%m-%d %H:%M:%S.%f')
{%- endmacro %}

{% macro spark__timestamp_text(expression) -%}
    date_format({{ expression }}, 'yyyy-MM-dd HH:mm:ss.SSSSSS')
{%- endmacro %}

{#- The value of the row that sorts first by the ordering expressions, in their order (an aggregate). -#}
{% macro min_by(value, order_by) -%}
    min_by({{ value }}, {{ ordering(order_by) }})
{%- endmacro %}

{#- Several values compared in order, as one value (for min_by, max_by). -#}
{% macro ordering(expressions) -%}
    {{ return(adapter.dispatch('ordering', 'segments')(expressions)) }}
{%- endmacro %}

{% macro default__ordering(expressions) -%}
    row({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__ordering(expressions) -%}
    struct({{ expressions | join(', ') }})
{%- endmacro %}

{#- An amount of money, then a rank, compared as one value. DuckDB compares one number (cents times the number of
    ranks, plus the rank) 5x faster than a (spend, rank) pair; Spark compares the pair. -#}
{% macro spend_then_rank(spend, rank, ranked) -%}
    {{ return(adapter.dispatch('spend_then_rank', 'segments')(spend, rank, ranked)) }}
{%- endmacro %}

{% macro default__spend_then_rank(spend, rank, ranked) -%}
    cast({{ spend }} * 100 as hugeint) * (select count(*) + 1 from {{ ranked }}) + {{ rank }}
{%- endmacro %}

{% macro spark__spend_then_rank(spend, rank, ranked) -%}
    struct({{ spend }}, {{ rank }})
{%- endmacro %}

{#- An aggregate: a JSON object {key: value} of a group's rows, keys in order. -#}
{% macro json_object_agg(key, value) -%}
    {{ return(adapter.dispatch('json_object_agg', 'segments')(key, value)) }}
{%- endmacro %}

{% macro default__json_object_agg(key, value) -%}
    cast(to_json(map_from_entries(list(struct_pack(k := {{ key }}, v := {{ value }}) order by {{ key }}))) as varchar)
{%- endmacro %}

{% macro spark__json_object_agg(key, value) -%}
    to_json(map_from_entries(array_sort(collect_list(struct({{ key }} as k, {{ value }} as v)))))
{%- endmacro %}

{#- Integer division, rounded toward zero. -#}
{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide', 'segments')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) // ({{ divisor }}))
{%- endmacro %}

{% macro spark__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) div ({{ divisor }}))
{%- endmacro %}

{#- The distinct values of a group, sorted, joined by a separator (an aggregate). -#}
{% macro distinct_sorted_join(expression, separator) -%}
    {{ return(adapter.dispatch('distinct_sorted_join', 'segments')(expression, separator)) }}
{%- endmacro %}

{% macro default__distinct_sorted_join(expression, separator) -%}
    string_agg(distinct {{ expression }}, {{ separator }} order by {{ expression }})
{%- endmacro %}

{% macro spark__distinct_sorted_join(expression, separator) -%}
    nullif(array_join(array_sort(collect_set({{ expression }})), {{ separator }}), '')
{%- endmacro %}

{#- One row per day from first to last (dates), as a select-list expression. -#}
{% macro days_between(first, last) -%}
    {{ return(adapter.dispatch('days_between', 'segments')(first, last)) }}
{%- endmacro %}

{% macro default__days_between(first, last) -%}
    cast(unnest(generate_series({{ first }}, {{ last }}, interval 1 day)) as date)
{%- endmacro %}

{% macro spark__days_between(first, last) -%}
    explode(sequence({{ first }}, {{ last }}, interval 1 day))
{%- endmacro %}

{#- Connected components of an undirected graph: (customer_id, member_id) for every node of `nodes` (a relation with
    customer_id) and every node its component holds, itself included. `edges` holds (customer_id, other_id) both
    ways round. -#}
{% macro connected_components(nodes, edges) -%}
    {{ return(adapter.dispatch('connected_components', 'segments')(nodes, edges)) }}
{%- endmacro %}

{#- A recursive walk; UNION (not UNION ALL) ends it on cycles. -#}
{% macro default__connected_components(nodes, edges) -%}
    with recursive walk(customer_id, other_id) as (
        select customer_id, other_id from {{ edges }}
        union
        select walk.customer_id, {{ edges }}.other_id
        from walk
        inner join {{ edges }} on walk.other_id = {{ edges }}.customer_id
    )
    select customer_id, customer_id as member_id from {{ nodes }}
    union
    select customer_id, other_id as member_id from walk
{%- endmacro %}

{#- Spark's recursive CTEs allow only UNION ALL, which never ends on a cycle. Instead each node takes the smallest
    label among itself and its neighbours, round after round. A round is two window minimums over the edge list
    (self-loops added) carrying both ends' labels, so it reads the round before it once and the plan grows linearly
    with the rounds. `rounds` settles any chain of up to that many hops; one that has not settled fails the model
    rather than merging too little. -#}
{% macro spark__connected_components(nodes, edges, rounds=16) -%}
    with round_0 as (
        select customer_id, other_id, customer_id as own_label, other_id as other_label from {{ edges }}
        union all
        select distinct customer_id, customer_id, customer_id, customer_id from {{ edges }}
    ),
    {%- for round in range(1, rounds + 1) %}
    round_{{ round }} as (
        select
            customer_id,
            other_id,
            min(least(own_label, other_label)) over (partition by customer_id) as own_label,
            min(least(own_label, other_label)) over (partition by other_id) as other_label
        from round_{{ round - 1 }}
    ),
    {%- endfor %}
    settled as (
        select
            customer_id,
            case when own_label != other_label
                then raise_error('customer identities did not settle into components in {{ rounds }} rounds')
                else own_label end as label
        from round_{{ rounds }}
    ),
    labels as (
        select distinct customer_id, label from settled
    )
    select customer_id, customer_id as member_id from {{ nodes }}
    union
    select mine.customer_id, theirs.customer_id as member_id
    from labels as mine
    inner join labels as theirs on mine.label = theirs.label
{%- endmacro %}

{#- A naive UTC timestamp as the wall time of a time zone. -#}
{% macro local_time(utc_timestamp, time_zone) -%}
    {{ return(adapter.dispatch('local_time', 'segments')(utc_timestamp, time_zone)) }}
{%- endmacro %}

{% macro default__local_time(utc_timestamp, time_zone) -%}
    timezone('{{ time_zone }}', {{ utc_timestamp }} at time zone 'UTC')
{%- endmacro %}

{% macro spark__local_time(utc_timestamp, time_zone) -%}
    cast(from_utc_timestamp({{ utc_timestamp }}, '{{ time_zone }}') as timestamp_ntz)
{%- endmacro %}

{#- Saturday or Sunday (the engines number the days of the week differently). -#}
{% macro is_weekend(timestamp) -%}
    {{ return(adapter.dispatch('is_weekend', 'segments')(timestamp)) }}
{%- endmacro %}

{% macro default__is_weekend(timestamp) -%}
    (dayofweek({{ timestamp }}) in (0, 6))
{%- endmacro %}

{% macro spark__is_weekend(timestamp) -%}
    (dayofweek({{ timestamp }}) in (1, 7))
{%- endmacro %}

{#- An integer type wide enough for sums of cents at any scale. -#}
{% macro wide_integer() -%}
    {{ return(adapter.dispatch('wide_integer', 'segments')()) }}
{%- endmacro %}

{% macro default__wide_integer() -%}
    hugeint
{%- endmacro %}

{% macro spark__wide_integer() -%}
    decimal(38, 0)
{%- endmacro %}

{#- A string literal both engines read alike (orchestration/rules.py sql_string): Spark reads a backslash as an
    escape and 'it''s' as two adjacent literals ('its'), so quotes and backslashes are spelled with chr(). -#}
{% macro sql_string(text) -%}
    {%- set text = text | string -%}
    {%- if "'" not in text and "\\" not in text -%}
        '{{ text }}'
    {%- else -%}
        {%- set pieces = [] -%}
        {%- for piece in modules.re.split("(['\\\\])", text) if piece -%}
            {%- do pieces.append({"'": 'chr(39)', "\\": 'chr(92)'}.get(piece, "'" ~ piece ~ "'")) -%}
        {%- endfor -%}
        ({{ pieces | join(' || ') }})
    {%- endif -%}
{%- endmacro %}

{#- Text without the spaces around it: Unicode space separators (U+0020, the full-width U+3000, the no-break U+00A0,
    ...), as DuckDB's trim strips them; Spark's strips U+0020 only. Tabs and line breaks stay on both. -#}
{% macro trim_spaces(text) -%}
    {{ return(adapter.dispatch('trim_spaces', 'segments')(text)) }}
{%- endmacro %}

{% macro default__trim_spaces(text) -%}
    trim({{ text }})
{%- endmacro %}

{% macro spark__trim_spaces(text) -%}
    regexp_replace({{ text }}, {{ spark_pattern('^[\\p{Zs}]+|[\\p{Zs}]+$') }}, '')
{%- endmacro %}

{#- A join clause, after a FROM item: one row per piece of a text split at a separator (a literal without regular
    expression meaning, as Spark's split reads it), named alias.column; none for a NULL text. -#}
{% macro split_rows(text, separator, alias, column) -%}
    {{ return(adapter.dispatch('split_rows', 'segments')(text, separator, alias, column)) }}
{%- endmacro %}

{% macro default__split_rows(text, separator, alias, column) -%}
    cross join unnest(string_split({{ text }}, {{ separator }})) as {{ alias }}({{ column }})
{%- endmacro %}

{% macro spark__split_rows(text, separator, alias, column) -%}
    lateral view explode(split({{ text }}, {{ separator }})) {{ alias }} as {{ column }}
{%- endmacro %}

{#- An aggregate: the group's texts joined by a separator, in the order of another expression. -#}
{% macro ordered_join(expression, order_by, separator) -%}
    {{ return(adapter.dispatch('ordered_join', 'segments')(expression, order_by, separator)) }}
{%- endmacro %}

{% macro default__ordered_join(expression, order_by, separator) -%}
    string_agg({{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_join(expression, order_by, separator) -%}
    array_join(transform(array_sort(collect_list(struct({{ order_by }} as k, {{ expression }} as v))), e -> e.v),
               {{ separator }})
{%- endmacro %}

{#- A double as money, decimal(18, 2), rounded half up from its shortest decimal form (622.055 -> 622.06). Rounding
    the double itself goes by its binary value (622.05499...) on DuckDB and by its decimal form on Spark. -#}
{% macro money(expression) -%}
    cast(round(cast({{ expression }} as decimal(38, 10)), 2) as decimal(18, 2))
{%- endmacro %}

{#- The 1-based place of a value in a list of texts (NULL when absent): a CASE both engines read alike. -#}
{% macro position_in(expression, texts) -%}
    case {{ expression }}
        {%- for text in texts %} when {{ sql_string(text) }} then {{ loop.index }}{% endfor %}
    end
{%- endmacro %}

{#- Per column of `relation` but `excluded`: its rows and how many hold a value, counted over `rows` (a CTE of the
    relation's rows) in one scan; (column_name, row_count, present), a column named as `names` says. Portable:
    DuckDB's `unpivot ... columns(*)` has no Spark form. -#}
{% macro column_presence(rows, relation, excluded, names={}) -%}
    {%- set columns = [] -%}
    {%- for column in (adapter.get_columns_in_relation(relation) if execute else []) -%}
        {%- do columns.append(column.name) if column.name not in excluded -%}
    {%- endfor -%}
    with counts as (
        select
            count(*) as row_count
            {%- for column in columns %},
            count({{ adapter.quote(column) }}) as {{ adapter.quote('present_' ~ column) }}
            {%- endfor %}
        from {{ rows }}
    )
    {%- for column in columns %}
    select '{{ names.get(column, column) }}' as column_name, row_count, {{ adapter.quote('present_' ~ column) }} as present
    from counts
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- endmacro %}
