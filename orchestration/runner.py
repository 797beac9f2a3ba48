"""Run the daily job in-process (what `segments run` does) and turn its outcome into one line."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from orchestration import rules
from orchestration.dbt_project import PREPARE_ARGS, dbt_project
from orchestration.progress import phase_of
from orchestration.settings import PROJECT_ROOT

DBT_SOURCES = ("models", "macros", "seeds", "tests/dbt", "dbt_project.yml", "profiles.yml")


@dataclass
class RunOutcome:
    success: bool
    reason: str = ""
    failed_checks: list[str] = field(default_factory=list)
    phase_seconds: dict[str, float] = field(default_factory=dict)
    # checks that warn (severity WARN) and did not pass: the run goes on, the user is told
    warnings: list[str] = field(default_factory=list)


def phase_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall time per phase; every step that is not load, transform or publish is an asset check."""
    phases = {"load": 0.0, "transform": 0.0, "checks": 0.0, "publish": 0.0}
    for stats in instance.get_run_step_stats(run_id):
        if stats.start_time and stats.end_time:
            phases[phase_of(stats.step_key)] += stats.end_time - stats.start_time
    return {phase: round(seconds, 1) for phase, seconds in phases.items()}


def ensure_manifest() -> None:
    """Parse the dbt project when its manifest is missing or older than any model, macro or seed."""
    manifest = dbt_project.manifest_path
    if manifest.exists():
        built = manifest.stat().st_mtime
        newest = max(_newest_mtime(PROJECT_ROOT / name) for name in DBT_SOURCES)
        if newest <= built:
            return
    from orchestration.defs.resources import dbt_resource

    # the same parse as dbt_project's preparer, with the dbt installed beside this interpreter
    dbt_resource().cli(PREPARE_ARGS, target_path=dbt_project.target_path).wait()


def _newest_mtime(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=0.0)


def execute_job(
    log_file: Path, instance: dg.DagsterInstance | None = None, progress: bool = False, full_refresh: bool = False
) -> dg.ExecuteInProcessResult:
    """Execute the daily job; Dagster's and dbt's own output goes to log_file, not the terminal."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        ensure_manifest()
        from orchestration.definitions import defs

        job = defs().resolve_job_def("segments_daily")
        return job.execute_in_process(
            instance=instance or dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}},
                                    **({"progress": {}} if progress else {})},
                        "ops": {"dbt_models": {"config": {"full_refresh": full_refresh}}}},
        )


def evaluate_days(log_file: Path, first: date, last: date) -> RunOutcome:
    """The segments_backfill job over the daily partitions first..last (one run, orchestration/history.py)."""
    instance = dg.DagsterInstance.ephemeral()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("a", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        ensure_manifest()
        from orchestration.definitions import defs

        result = defs().resolve_job_def("segments_backfill").execute_in_process(
            instance=instance, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": first.isoformat(),
                  "dagster/asset_partition_range_end": last.isoformat()})
    if result.success:
        return RunOutcome(success=True, phase_seconds=phase_seconds(instance, result.run_id))
    return RunOutcome(success=False, reason=_reason(result, []))


def run_pipeline(log_file: Path, progress: bool = False, full_refresh: bool = False) -> RunOutcome:
    try:
        rules.load()  # a bad segments.yml is refused before any SQL runs
    except rules.RulesError as error:
        return RunOutcome(success=False, reason=str(error))
    instance = dg.DagsterInstance.ephemeral()
    result = execute_job(log_file, instance, progress, full_refresh)
    phases = phase_seconds(instance, result.run_id)
    failed_checks = [
        f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}"
        + (f" ({evaluation.description})" if evaluation.description else "")
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
    warnings = [
        f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}: {evaluation.description}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    ]
    if result.success and not failed_checks:
        return RunOutcome(success=True, phase_seconds=phases, warnings=warnings)
    return RunOutcome(success=False, reason=_reason(result, failed_checks), failed_checks=failed_checks,
                      phase_seconds=phases)


def _reason(result: dg.ExecuteInProcessResult, failed_checks: list[str]) -> str:
    if failed_checks:
        shown = ", ".join(failed_checks[:3]) + (" …" if len(failed_checks) > 3 else "")
        return f"blocking check failed: {shown}; nothing was published"
    for event in result.all_events:
        # a resource that could not start (the run lock held by another run) fails no step of its own
        if event.is_step_failure or event.is_resource_init_failure:
            error = getattr(event.event_specific_data, "error", None)
            message = (error.message if error else "step failed").strip()
            if error and error.cause and "Failure" not in error.cls_name:
                message = error.cause.message.strip()
            first = message.splitlines()[0] if message else "step failed"
            return f"{event.step_key}: {first.removeprefix('dagster._core.definitions.events.Failure: ')}"
    return "run failed; see the Dagster logs"
