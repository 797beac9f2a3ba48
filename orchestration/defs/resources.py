"""Resources and the executor shared by every asset."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dbt_project import dbt_project


@dg.definitions
def defs() -> dg.Definitions:
    # DuckDB allows one writer process: every step runs in the run's own process, one after another.
    return dg.Definitions(
        resources={"dbt": DbtCliResource(project_dir=dbt_project)},
        executor=dg.in_process_executor,
    )
