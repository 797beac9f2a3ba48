"""Start a run when files are added to or changed in the landing zone."""

import hashlib
import json

import dagster as dg

from orchestration.contract import entity_of
from orchestration.defs.schedules import segments_job
from orchestration.settings import Settings


def landing_state(settings: Settings) -> dict[str, str]:
    """Each landing file's size and modification time: cheap to read every minute, unlike a hash."""
    if not settings.landing_dir.is_dir():
        return {}
    return {
        path.name: f"{path.stat().st_size}:{path.stat().st_mtime_ns}"
        for path in sorted(settings.landing_dir.iterdir())
        if path.is_file() and entity_of(path.name)
    }


@dg.sensor(job=segments_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_zone_sensor(context: dg.SensorEvaluationContext):
    """Run the pipeline when a landing file is new or changed since the last run it started."""
    state = landing_state(Settings.from_env())
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(name for name, stamp in state.items() if previous.get(name) != stamp)
    if not changed:
        return dg.SkipReason("no new or changed files in the landing zone")
    context.update_cursor(json.dumps(state))
    run_key = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, tags={"segments/new_files": ",".join(changed)[:200]})
