"""Resources and the executor shared by every asset."""

import sys
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dbt.version import __version__ as dbt_core_version
from packaging import version

from orchestration.dbt_project import dbt_project
from orchestration.lock import RunLockedError, run_lock
from orchestration.progress import progress_logger
from orchestration.settings import Settings


class InProcessVersionDbtResource(DbtCliResource):
    """DbtCliResource that takes dbt's version from the installed dbt-core package."""

    @cached_property
    def _cli_version(self) -> version.Version:
        # dbt-core is a dependency of this package; asking `dbt --version` costs a second
        # interpreter start (about 4 s on two cores) on every run.
        return version.parse(dbt_core_version)

    def _initialize_dbt_core_adapter(self, args):
        # dagster-dbt loads the profile and project and opens a dbt adapter in the run's own process (~2 s) before
        # every invocation, only for fetch_column_metadata / fetch_row_counts, which these assets never call.
        return None


class RunLock(dg.ConfigurableResource):
    """Holds the run lock (orchestration/lock.py) from the first step that needs it to the end of the run."""

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        try:
            with run_lock(Settings.from_env(), purpose=f"dagster run {context.run_id}"):
                yield self
        except RunLockedError as error:
            raise dg.Failure(str(error)) from None


def dbt_resource() -> InProcessVersionDbtResource:
    # No dbt.log: every event dbt prints reaches the Dagster run log (and `segments run`'s log file) anyway, and
    # writing it under a lock the threads share cost ~30 % of a small build at debug level, ~10 % at info.
    # dbt through `segments-dbt` (orchestration/tied_dbt.py): it dies with the run that started it
    return InProcessVersionDbtResource(project_dir=dbt_project, global_config_flags=["--log-level-file", "none"],
                                       dbt_executable=str(Path(sys.executable).with_name("segments-dbt")))


@dg.definitions
def defs() -> dg.Definitions:
    # DuckDB allows one writer process: every step runs in the run's own process, one after another.
    return dg.Definitions(
        resources={"dbt": dbt_resource(), "run_lock": RunLock()},
        executor=dg.in_process_executor,
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    )
