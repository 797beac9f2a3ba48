"""Great Expectations suites as Dagster asset checks: a failed critical expectation blocks, a warning does not."""

import dagster as dg

from orchestration.db import connect
from orchestration.quality import read_sample, validate, write_report
from orchestration.settings import Settings

# suite file in expectations/, the asset it guards, the relation it reads and which rows. Row rules
# that triage enforces (codes, ranges, timestamps) are checked on the rows triage accepted: a row it
# quarantines counts against SEGMENTS_MAX_REJECT_RATE, not against a blocking expectation.
SUITES = (
    ("raw_customers", ["raw", "customers"], "raw.customers", "true"),
    ("raw_orders", ["raw", "orders"], "raw.orders", "true"),
    ("accepted_customers", ["intermediate", "int_customers_triaged"], "intermediate.int_customers_triaged",
     "outcome = 'accepted'"),
    ("accepted_orders", ["intermediate", "int_orders_triaged"], "intermediate.int_orders_triaged",
     "outcome = 'accepted'"),
)


def build_suite_check(suite: str, asset: list[str], relation: str, where: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(asset),
        name=f"gx_{suite}",
        blocking=True,
        description=f"Great Expectations suite expectations/{suite}.json on a repeatable sample.",
    )
    def _check() -> dg.AssetCheckResult:
        settings = Settings.from_env()
        with connect(settings.warehouse, settings, read_only=True) as con:
            frame = read_sample(con, relation, where)
        outcome = validate(frame, suite)
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
