"""The dbt project as Dagster sees it (kept in its own module so `dagster-dbt project prepare-and-package` finds it)."""

import json

from dagster_dbt import DbtProject

from orchestration.settings import PROJECT_ROOT, Settings


def dbt_vars(settings: Settings) -> dict[str, str | None]:
    """The dbt vars that come from the environment; every other var keeps its dbt_project.yml value."""
    return {
        "as_of_date": settings.as_of.isoformat() if settings.as_of else None,
        "reporting_currency": settings.reporting_currency,
    }


# Parsing with the run's own settings and vars lets `dbt build` reuse the parse instead of starting over.
_settings = Settings.from_env()
_settings.export_to_environ()
PREPARE_ARGS = ["parse", "--quiet", "--vars", json.dumps(dbt_vars(_settings))]
dbt_project = DbtProject(project_dir=PROJECT_ROOT, profiles_dir=PROJECT_ROOT, prepare_project_cli_args=PREPARE_ARGS)
dbt_project.prepare_if_dev()
