{#- Engine-specific SQL, one macro each (adapter.dispatch picks the engine's version). -#}

{#- A CTE that several parts of a query read, to be read from its source each time rather than copied:
    DuckDB materialises a CTE read more than once (a copy of every row and column selected, which spills under
    the memory cap) unless told not to. Other engines inline CTEs anyway. -#}
{% macro inline_cte() %}{{ return(adapter.dispatch('inline_cte', 'segments')()) }}{% endmacro %}

{% macro default__inline_cte() %}{% endmacro %}

{% macro duckdb__inline_cte() %}not materialized{% endmacro %}
