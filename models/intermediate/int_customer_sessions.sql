{{ config(**keyed_incremental(unique_key='customer_id')) }}

-- The date (UTC) of each website session's first event, per landed customer id: a session counts from the first
-- snapshot that sees any of its events. Incremental like int_customer_events_daily; a customer without sessions
-- keeps one row with a NULL session_id.
with

triaged as (
    select {{ keyed_star() }} from {{ ref('int_web_events_triaged') }}
),

affected as (
    {{ touched_customers('triaged') }}
),

sessions as (
    select customer_id, session_id, min(cast(event_ts as date)) as first_event_date
    from triaged
    where outcome = 'accepted' and session_id is not null and customer_id in (select customer_id from affected)
    group by customer_id, session_id
)

select affected.customer_id, sessions.session_id, sessions.first_event_date, {{ load_batch() }} as _batch
    {{- bucket_column('affected.customer_id') }}
from affected
left join sessions on affected.customer_id = sessions.customer_id
