"""Great Expectations suites as Dagster asset checks: a failed critical expectation blocks, a warning does not."""

import dagster as dg

from orchestration.incremental import has_incremental_tables
from orchestration.quality import read_sample, validate_once, write_report
from orchestration.settings import Settings
from orchestration.warehouse import read_warehouse

# Only rows new since the last build are validated, like the incremental models process only them: raw rows
# that staging has not taken yet (it runs after these checks), and triaged rows stamped by the latest load.
NEW_RAW_ROWS = ("_loaded_at > coalesce((select max(_loaded_at) from staging.{staged}), '-infinity'::timestamp)")
NEW_TRIAGED_ROWS = "_batch = (select max(loaded_at) from raw.load_files)"

# suite file in expectations/, the asset it guards, the relation it reads and which rows. Row rules
# that triage enforces (codes, ranges, timestamps) are checked on the rows triage accepted: a row it
# quarantines counts against SEGMENTS_MAX_REJECT_RATE, not against a blocking expectation.
SUITES = (
    ("raw_customers", ["raw", "customers"], "raw.customers", NEW_RAW_ROWS.format(staged="stg_landing__customers")),
    ("raw_orders", ["raw", "orders"], "raw.orders", NEW_RAW_ROWS.format(staged="stg_landing__orders")),
    ("accepted_customers", ["intermediate", "int_customers_triaged"], "intermediate.int_customers_triaged",
     f"outcome = 'accepted' and {NEW_TRIAGED_ROWS}"),
    ("accepted_orders", ["intermediate", "int_orders_triaged"], "intermediate.int_orders_triaged",
     f"outcome = 'accepted' and {NEW_TRIAGED_ROWS}"),
)


def build_suite_check(suite: str, asset: list[str], relation: str, where: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(asset),
        name=f"gx_{suite}",
        blocking=True,
        description=f"Great Expectations suite expectations/{suite}.json on a repeatable sample of the new rows.",
    )
    def _check() -> dg.AssetCheckResult:
        settings = Settings.from_env()
        with read_warehouse(settings) as con:
            frame = read_sample(con, relation, where if has_incremental_tables(con) else "true")
        if frame.empty:
            return dg.AssetCheckResult(passed=True, description=f"{suite}: no new rows since the last build",
                                       metadata={"rows_validated": 0})
        outcome = validate_once(frame, suite, settings.warehouse.parent / "gx-outcomes")
        report = write_report(outcome, settings.publish_dir / "quality")
        critical, warnings = outcome.critical_failures, outcome.warnings
        failed = critical or warnings
        summary = ", ".join(f"{o.expectation}({o.column or ''})" for o in failed) or "every expectation met"
        return dg.AssetCheckResult(
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
            description=f"{suite}: {summary}",
            metadata={
                "rows_validated": outcome.rows_validated,
                "critical_failures": len(critical),
                "warnings": len(warnings),
                "expectations": dg.MetadataValue.md(outcome.markdown()),
                "report": dg.MetadataValue.path(str(report)),
            },
        )

    return _check


suite_checks = [build_suite_check(*suite) for suite in SUITES]
