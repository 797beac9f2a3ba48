-- One row per accepted override (int_segment_overrides_triaged) and what became of it at the as-of date. An
-- override holds from valid_from up to the day before expires_at. Rejected: the customer, the dimension or the
-- segment is unknown. Pending: it starts later. Expired: past its expiry, it is ignored. Superseded: a later
-- override of the same customer and dimension holds. Applied: customer_segments shows its segment, last of all
-- (after the rules and the grace periods).
{%- set dimensions = history_dimensions() %}
with

overrides as (
    select customer_id, dimension, segment, reason as request_reason, valid_from, expires_at
    from {{ ref('int_segment_overrides_triaged') }}
    where outcome = 'accepted'
),

as_of as (
    select as_of_date from {{ ref('int_as_of_date') }}
),

computed as (
    -- the segments the rules give each customer at the as-of date, one row per dimension
    select customer_id, dimension, segment as computed_segment
    from (
        select customer_id, {{ dimensions | join(', ') }}
        from {{ ref('int_customers_segmented') }}
        where is_current
    )
    unpivot include nulls (segment for dimension in ({{ dimensions | join(', ') }}))
),

vocabulary as (
    select dimension, segment
    from (values
        ('value_tier', 'high'), ('value_tier', 'mid'), ('value_tier', 'low'),
        ('frequency_group', 'high'), ('frequency_group', 'low'), ('frequency_group', 'one_time'),
        ('lifecycle_stage', 'prospect'), ('lifecycle_stage', 'new'), ('lifecycle_stage', 'active'),
        ('lifecycle_stage', 'silent'), ('lifecycle_stage', 'churned'), ('rfm_segment', 'no_purchase')
    ) as built_in(dimension, segment)
    union
    select 'rfm_segment', rfm_segment from {{ ref('rfm_segment_map') }}
    union
    select dimension, segment from {{ ref('int_segment_rules') }}
),

checked as (
    -- what is known of each override's customer, dimension and segment at the as-of date
    select
        overrides.*,
        computed.computed_segment,
        exists (select 1 from computed as known where known.customer_id = overrides.customer_id) as known_customer,
        overrides.dimension in ({{ "'" ~ dimensions | join("', '") ~ "'" }}) as known_dimension,
        exists (select 1 from vocabulary
                where vocabulary.dimension = overrides.dimension and vocabulary.segment = overrides.segment)
            as known_segment,
        as_of.as_of_date
    from overrides
    cross join as_of
    left join computed
        on overrides.customer_id = computed.customer_id and overrides.dimension = computed.dimension
),

judged as (
    select
        *,
        case
            when not (known_customer and known_dimension and known_segment) then 'rejected'
            when valid_from > as_of_date then 'pending'
            when expires_at <= as_of_date then 'expired'
        end as judged_status,
        case
            when not known_customer then 'unknown customer'
            when not known_dimension then 'unknown dimension: ' || dimension
            when not known_segment then 'unknown segment of ' || dimension || ': ' || segment
            when valid_from > as_of_date then 'starts on ' || cast(valid_from as {{ dbt.type_string() }})
            when expires_at <= as_of_date then 'expired on ' || cast(expires_at as {{ dbt.type_string() }})
        end as judged_reason
    from checked
),

ranked as (
    -- of the overrides that hold for a customer and dimension, the one that started last (then the later expiry)
    select
        *,
        row_number() over (
            partition by customer_id, dimension, judged_status is null
            order by valid_from desc, expires_at desc nulls first, segment
        ) as holding_rank
    from judged
)

select
    customer_id,
    dimension,
    segment,
    case
        when judged_status is not null then judged_status
        when holding_rank > 1 then 'superseded'
        else 'applied'
    end as status,
    coalesce(judged_reason, case when holding_rank > 1 then 'a later override of the same dimension holds' end,
             'applied: ' || coalesce(request_reason, 'no reason given')) as reason,
    request_reason,
    computed_segment,
    valid_from,
    expires_at,
    as_of_date
from ranked
