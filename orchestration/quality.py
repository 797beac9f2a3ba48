"""Great Expectations suites (expectations/*.json) run over DuckDB tables as pandas frames, with an HTML report."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.contract import is_pii
from orchestration.files import replace_whole
from orchestration.privacy import redact_text
from orchestration.settings import PROJECT_ROOT
from orchestration.tied_dbt import die_with_parent

SUITES_DIR = PROJECT_ROOT / "expectations"
# GX validates in memory: a repeatable sample keeps a 10M-row table affordable; dbt tests cover
# keys and codes on every row.
SAMPLE_ROWS = 200_000

# A process that has imported Great Expectations (~3.5 s of scipy, altair, SQLAlchemy), once `start_worker` ran.
_worker: ProcessPoolExecutor | None = None


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: str


@dataclass
class SuiteOutcome:
    suite: str
    description: str
    rows_validated: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != "critical"]

    def markdown(self) -> str:
        lines = ["| expectation | column | severity | result | observed |", "|---|---|---|---|---|"]
        for o in self.outcomes:
            lines.append(f"| {o.expectation} | {o.column or ''} | {o.severity} | "
                         f"{'pass' if o.success else 'FAIL'} | {o.observed} |")
        return "\n".join(lines)


def load_suite_definition(name: str) -> dict:
    return json.loads((SUITES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def read_sample(con: duckdb.DuckDBPyConnection, relation: str, where: str = "true") -> pd.DataFrame:
    return con.execute(
        f"select * from (select * from {relation} where {where}) "
        f"using sample reservoir({SAMPLE_ROWS} rows) repeatable (42)").df()


def validate_once(frame: pd.DataFrame, suite_name: str, cache_dir: Path) -> SuiteOutcome:
    """`validate`, unless this suite already judged exactly these rows: then its stored outcome.

    GX gives the same outcome for the same rows and suite, and a run with nothing new samples the rows of the
    last load again; importing and running GX for them cost ~5 s of a run that has nothing else to do."""
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())  # how outcomes are read and rendered
    digest.update((SUITES_DIR / f"{suite_name}.json").read_bytes())
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    stored = cache_dir / f"{suite_name}.json"
    try:
        kept = json.loads(stored.read_text(encoding="utf-8"))
        if kept["digest"] == digest.hexdigest():
            outcome = kept["outcome"]
            return SuiteOutcome(**{**outcome, "outcomes": [ExpectationOutcome(**o) for o in outcome["outcomes"]]})
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass
    outcome = _validate_in_worker(frame, suite_name)
    cache_dir.mkdir(parents=True, exist_ok=True)
    kept = json.dumps({"digest": digest.hexdigest(), "outcome": asdict(outcome)})
    replace_whole(stored, lambda partial: partial.write_text(kept, encoding="utf-8"))
    return outcome


def start_worker() -> None:
    """Import Great Expectations now, in a process of its own on another core, while this one imports Dagster and
    dbt and loads the landing zone; the checks then validate there instead of importing GX on the critical path of
    the run. Without it (a run started from the Dagster UI), `validate` runs where the check runs."""
    global _worker
    if _worker is None:
        _worker = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_import_quietly, initargs=(os.getpid(),))
        _worker.submit(os.getpid)  # starts the process


def stop_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.shutdown(cancel_futures=True)
        _worker = None


def _import_quietly(run: int) -> None:
    # a run killed with kill -9 takes its worker along (it would wait for work forever, holding the run's output)
    die_with_parent(run)
    # GX draws progress bars on stderr; the run's own output is the one line `segments run` prints
    quiet = os.open(os.devnull, os.O_WRONLY)
    os.dup2(quiet, sys.stdout.fileno())
    os.dup2(quiet, sys.stderr.fileno())
    import great_expectations  # noqa: F401


def _validate_in_worker(frame: pd.DataFrame, suite_name: str) -> SuiteOutcome:
    if _worker is not None:
        try:
            return _worker.submit(validate, frame, suite_name).result()
        except BrokenProcessPool:
            stop_worker()  # the worker died (killed, out of memory): validate here
    return validate(frame, suite_name)


def validate(frame: pd.DataFrame, suite_name: str) -> SuiteOutcome:
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    definition = load_suite_definition(suite_name)
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas(suite_name)
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("sample")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=definition["name"], expectations=definition["expectations"])
    result = batch.validate(suite).to_json_dict()
    outcome = SuiteOutcome(suite_name, definition.get("meta", {}).get("description", ""), len(frame))
    for item in result["results"]:
        config = item["expectation_config"]
        outcome.outcomes.append(ExpectationOutcome(
            expectation=config["type"],
            column=config["kwargs"].get("column"),
            severity=config.get("severity", "critical"),
            success=bool(item["success"]),
            observed=_observed(item.get("result", {}), show_values=not is_pii(config["kwargs"].get("column") or "")),
        ))
    return outcome


def _observed(result: dict, show_values: bool = True) -> str:
    """What an expectation saw; example values are left out for identifier columns and pattern-redacted elsewhere."""
    if "unexpected_percent" in result and result["unexpected_percent"] is not None:
        examples = result.get("partial_unexpected_list", [])[:3] if show_values else []
        shown = ", ".join(redact_text(str(v), None) or "" for v in examples)
        return f"{result['unexpected_percent']:.2f}% unexpected" + (f" (e.g. {shown})" if shown else "")
    if "observed_value" in result:
        return str(result["observed_value"])
    return ""


def write_report(suite: SuiteOutcome, folder: Path) -> Path:
    """A self-contained HTML page for one suite, plus an index of every suite page in the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(
        f"<tr class={'ok' if o.success else ('fail' if o.severity == 'critical' else 'warn')}>"
        f"<td>{html.escape(o.expectation)}</td><td>{html.escape(o.column or '')}</td>"
        f"<td>{o.severity}</td><td>{'pass' if o.success else 'FAIL'}</td>"
        f"<td>{html.escape(o.observed)}</td></tr>"
        for o in suite.outcomes)
    body = (
        f"<h1>{html.escape(suite.suite)}</h1><p>{html.escape(suite.description)} "
        f"({suite.rows_validated} rows validated)</p>"
        "<table><tr><th>expectation</th><th>column</th><th>severity</th><th>result</th>"
        f"<th>observed</th></tr>{rows}</table><p><a href=index.html>all suites 全部</a></p>")
    page = folder / f"{suite.suite}.html"
    page.write_text(_page(f"{suite.suite} - data quality 数据质量", body), encoding="utf-8")
    links = "".join(f"<li><a href={p.name}>{p.stem}</a></li>"
                    for p in sorted(folder.glob("*.html")) if p.name != "index.html")
    (folder / "index.html").write_text(
        _page("Data quality 数据质量", f"<h1>Data quality validation 数据质量校验</h1><ul>{links}</ul>"),
        encoding="utf-8")
    return page


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px}.fail{background:#fdd}.warn{background:#ffd}"
        f".ok{{background:#efe}}</style>{body}</html>")
