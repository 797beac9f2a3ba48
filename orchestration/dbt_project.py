"""The dbt project as Dagster sees it (kept in its own module so `dagster-dbt project prepare-and-package` finds it)."""

import json
import os
import sys
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from orchestration import rules
from orchestration.settings import PROJECT_ROOT, Settings


def dbt_vars(settings: Settings, compiled: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dbt vars of a run: settings from the environment, parameters and rules from segments.yml."""
    compiled = compiled if compiled is not None else rules.load()
    return {
        "as_of_date": settings.as_of.isoformat() if settings.as_of else None,
        "reporting_currency": settings.reporting_currency,
        **compiled["parameters"],
        "segment_rules": {key: compiled[key] for key in ("dimensions", "tags", "audiences")},
    }


def build_args(variables: dict[str, Any], full_refresh: bool = False, seeds_loaded: bool = False,
               write_json: bool = True) -> list[str]:
    """`dbt build` of a run, with its dbt vars (`dbt_vars`). Unit tests belong to CI (pytest), not to production
    runs: an analyst's threshold change must change the segments, not fail the run. Seeds already loaded from the
    same files (`seeds_loaded`) are neither reloaded nor tested again (with the tests that read them: 29 of ~190
    nodes). Without `write_json`, dbt writes no manifest.json or run_results.json (Dagster reads its event
    stream; writing the 2 MB manifest took ~1 s of a run); the data dictionary is generated from that manifest
    when it is due."""
    excluded = ["resource_type:unit_test", *(["path:seeds"] if seeds_loaded else [])]
    return ["build", *([] if write_json else ["--no-write-json"]), "--exclude", " ".join(excluded),
            *(["--full-refresh"] if full_refresh else []), "--vars", json.dumps(variables)]


# dagster-dbt starts `dbt` from PATH; put this interpreter's scripts first so that an unactivated
# virtualenv (`.venv/bin/dagster dev`, `.venv/bin/segments run`) finds its own dbt.
_scripts = str(Path(sys.executable).parent)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _scripts:
    os.environ["PATH"] = _scripts + os.pathsep + os.environ.get("PATH", "")

# Enough rules for dbt to parse the project when segments.yml is broken: the code location still
# loads, and the run itself refuses the file with its one-line reason (dbt_models, runner).
PARSE_ONLY_RULES = {
    "segments": {"business_segment": {"rules": [
        {"code": "unclassified", "otherwise": True, "label_en": "unclassified", "label_zh": "未分类",
         "action": "fix segments.yml"}]}},
}


def prepare_args(settings: Settings) -> list[str]:
    """Parsing with the run's own settings and vars lets `dbt build` reuse the parse instead of starting over."""
    try:
        variables = dbt_vars(settings)
    except rules.RulesError:
        variables = dbt_vars(settings, rules.compile_config(PARSE_ONLY_RULES))
    return ["parse", "--quiet", "--vars", json.dumps(variables)]


_settings = Settings.from_env()
_settings.export_to_environ()
PREPARE_ARGS = prepare_args(_settings)
dbt_project = DbtProject(project_dir=PROJECT_ROOT, profiles_dir=PROJECT_ROOT, prepare_project_cli_args=PREPARE_ARGS)
dbt_project.prepare_if_dev()
