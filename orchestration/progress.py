"""Live progress of `segments run`: one line per step as it finishes, labelled with its phase."""

import logging
import sys
import time

import dagster as dg

PHASE_OF_STEP = {"raw_tables": "load", "dbt_models": "transform", "publish__bi_publication": "publish"}


def phase_of(step_key: str) -> str:
    """Every step that is not load, transform or publish is an asset check."""
    return PHASE_OF_STEP.get(step_key, "checks")


class StepProgress(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, float] = {}
        self.succeeded: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is None:
            return
        # a run can end without failing and still not publish (a blocking check skipped the step)
        if (event.is_run_failure or event.is_job_success) and "publish__bi_publication" not in self.succeeded:
            self._print(f"  {'publish':<10} not run: nothing was published")
        if not event.step_key:
            return
        if event.is_step_success:
            self.succeeded.add(event.step_key)
        if event.is_step_start:
            self.started[event.step_key] = time.monotonic()
            if event.step_key in PHASE_OF_STEP:
                self._print(f"  {phase_of(event.step_key):<10} started")
        elif event.is_step_success or event.is_step_failure or event.is_step_skipped:
            seconds = time.monotonic() - self.started.get(event.step_key, time.monotonic())
            outcome = "done" if event.is_step_success else ("failed" if event.is_step_failure else "skipped")
            name = "" if event.step_key in PHASE_OF_STEP else f" {event.step_key}"
            self._print(f"  {phase_of(event.step_key):<10} {outcome}{name} ({seconds:.1f} s)")

    @staticmethod
    def _print(line: str) -> None:
        # the terminal itself: the run's stdout and stderr are redirected to its log file
        print(line, file=sys.__stdout__, flush=True)


@dg.logger(description="One line per step of `segments run` on the terminal, as the run goes.")
def progress_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    log = logging.getLogger("segments.progress")
    log.handlers = [StepProgress()]
    log.setLevel(logging.DEBUG)
    log.propagate = False
    return log
