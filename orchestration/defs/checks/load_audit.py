"""Run-level guards on the load audit: every row accounted for, and not too many rows quarantined."""

import dagster as dg

from orchestration.settings import Settings
from orchestration.warehouse import read_warehouse

LOAD_AUDIT = dg.AssetKey(["marts", "load_audit"])


def _rows(query: str) -> list[tuple]:
    settings = Settings.from_env()
    with read_warehouse(settings) as con:
        return con.execute(query).fetchall()


@dg.asset_check(asset=LOAD_AUDIT, blocking=True)
def rows_reconcile() -> dg.AssetCheckResult:
    """Every file: rows_read = rows_accepted + rows_quarantined + rows_duplicate."""
    broken = _rows(
        "select entity, source_file, rows_read, rows_accepted, rows_quarantined, rows_duplicate "
        "from marts.load_audit "
        "where rows_read != rows_accepted + rows_quarantined + rows_duplicate order by 1, 2")
    return dg.AssetCheckResult(
        passed=not broken,
        description=(f"{len(broken)} file(s) do not reconcile, first: {broken[0][0]} {broken[0][1]}"
                     if broken else "every row read is accepted, quarantined or a duplicate"),
        metadata={"unreconciled_files": dg.MetadataValue.json([list(map(str, r)) for r in broken])},
    )


@dg.asset_check(asset=LOAD_AUDIT, blocking=True)
def reject_rate_within_limit() -> dg.AssetCheckResult:
    """Each entity's quarantined share of rows read stays at or under SEGMENTS_MAX_REJECT_RATE."""
    limit = Settings.from_env().max_reject_rate
    shares = _rows(
        "select entity, sum(rows_quarantined)::double / nullif(sum(rows_read), 0) as share "
        "from marts.load_audit group by entity order by entity")
    over = [(entity, share) for entity, share in shares if share is not None and share > limit]
    if over:
        description = "; ".join(
            f"{entity}: {share:.1%} of rows quarantined exceeds SEGMENTS_MAX_REJECT_RATE {limit:.1%}"
            for entity, share in over)
    else:
        description = f"every entity at or under {limit:.1%} quarantined"
    return dg.AssetCheckResult(
        passed=not over,
        description=description,
        metadata={
            "max_reject_rate": limit,
            **{f"quarantined_share/{entity}": float(share or 0) for entity, share in shares},
        },
    )
