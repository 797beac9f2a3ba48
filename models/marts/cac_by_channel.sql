with

costed as (
    select * from {{ ref('int_channels_costed') }}
)

select * from costed
