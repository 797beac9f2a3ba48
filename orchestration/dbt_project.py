"""The dbt project as Dagster sees it (kept in its own module so `dagster-dbt project prepare-and-package` finds it)."""

from dagster_dbt import DbtProject

from orchestration.settings import PROJECT_ROOT

dbt_project = DbtProject(project_dir=PROJECT_ROOT, profiles_dir=PROJECT_ROOT)
dbt_project.prepare_if_dev()
