with

source as (
    select * from {{ source('raw', 'feedback') }}{{ only_new_loads() }}
),

typed as (
    select
        {{ clean_text('customer_id') }} as customer_id,
        {{ parse_timestamp('survey_ts') }} as survey_ts,
        {{ parse_integer('nps_score') }} as nps_score,
        {{ parse_integer('csat_score') }} as csat_score,
        {{ clean_text('comment') }} as comment,
        {{ is_unparseable('survey_ts', parse_timestamp('survey_ts')) }} as has_bad_timestamp,
        {{ is_unparseable('nps_score', parse_integer('nps_score')) }}
            or {{ is_unparseable('csat_score', parse_integer('csat_score')) }} as has_bad_number,
        {{ landing_metadata() }}
    from source
),

flagged as (
    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when has_bad_timestamp then 'unparseable_timestamp'
            when survey_ts is null then 'missing_survey_ts'
            when has_bad_number then 'unparseable_number'
            when nps_score not between 0 and 10 or csat_score not between 1 and 5 then 'score_out_of_range'
            when survey_ts > _loaded_at then 'future_timestamp'
        end as reject_reason
    from typed
)

select {{ star_except(['has_bad_timestamp', 'has_bad_number']) }} from flagged
