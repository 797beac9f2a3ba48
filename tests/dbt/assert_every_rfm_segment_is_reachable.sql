{{ config(meta={"dagster": {"ref": {"name": "rfm_segment_map"}}}) }}
-- Every labelled RFM segment (except no_purchase, given to non-buyers) has at least one cell of the map.
with

labels as (
    select segment from {{ ref('segment_labels') }}
    where dimension = 'rfm_segment' and segment != 'no_purchase'
),

rfm_map as (
    select distinct rfm_segment from {{ ref('rfm_segment_map') }}
),

unreachable as (
    select labels.segment
    from labels
    left join rfm_map on labels.segment = rfm_map.rfm_segment
    where rfm_map.rfm_segment is null
)

select * from unreachable
