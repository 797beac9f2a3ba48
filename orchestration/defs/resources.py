"""Resources and the executor shared by every asset."""

from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from dbt.version import __version__ as dbt_core_version
from packaging import version

from orchestration.dbt_project import dbt_project
from orchestration.progress import progress_logger


class InProcessVersionDbtResource(DbtCliResource):
    """DbtCliResource that takes dbt's version from the installed dbt-core package."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dbt-core is a dependency of this package; asking `dbt --version` costs a second
        # interpreter start (about 4 s on two cores) on every run.
        return version.parse(dbt_core_version)


def dbt_resource() -> InProcessVersionDbtResource:
    return InProcessVersionDbtResource(project_dir=dbt_project)


@dg.definitions
def defs() -> dg.Definitions:
    # DuckDB allows one writer process: every step runs in the run's own process, one after another.
    return dg.Definitions(
        resources={"dbt": dbt_resource()},
        executor=dg.in_process_executor,
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    )
