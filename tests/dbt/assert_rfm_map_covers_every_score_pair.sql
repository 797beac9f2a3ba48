-- Every (r_score, f_score) pair of the grid has a segment: every buyer gets exactly one rfm_segment.
with

grid as (
    select r.r_score, f.f_score
    from range(1, {{ var('score_buckets') }} + 1) as r(r_score)
    cross join range(1, {{ var('score_buckets') }} + 1) as f(f_score)
),

rfm_map as (
    select * from {{ ref('rfm_segment_map') }}
),

missing as (
    select grid.*
    from grid
    left join rfm_map on grid.r_score = rfm_map.r_score and grid.f_score = rfm_map.f_score
    where rfm_map.rfm_segment is null
)

select * from missing
