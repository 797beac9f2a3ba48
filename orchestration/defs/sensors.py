"""Start a run when files are added to or changed in the landing zone, once they have stopped changing."""

import hashlib
import json

import dagster as dg

from orchestration.defs.schedules import segments_job
from orchestration.freshness import landing_stamps
from orchestration.settings import Settings


def _cursor(text: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """(state at the last tick, state at the last run requested)."""
    saved = json.loads(text) if text else {}
    if "ran" not in saved:  # a cursor written before ticks were remembered: the state of the last run
        return saved, saved
    return saved["seen"], saved["ran"]


@dg.sensor(job=segments_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_zone_sensor(context: dg.SensorEvaluationContext):
    """Run the pipeline when a landing file is new or changed and has kept its size and time for a whole tick."""
    state = dict(landing_stamps(Settings.from_env().landing_dir))
    seen, ran = _cursor(context.cursor)
    changed = sorted(name for name, stamp in state.items() if ran.get(name) != stamp)
    # a file that changed since the previous tick may still be being written (a copy, an export)
    settling = [name for name in changed if seen.get(name) != state[name]]
    if not changed:
        return dg.SkipReason("no new or changed files in the landing zone")
    if settling:
        context.update_cursor(json.dumps({"seen": state, "ran": ran}))
        return dg.SkipReason(f"waiting one more tick for {', '.join(settling)} to stop changing")
    context.update_cursor(json.dumps({"seen": state, "ran": state}))
    run_key = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, tags={"segments/new_files": ",".join(changed)[:200]})
