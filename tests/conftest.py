"""Shared fixtures: every test works in its own landing zone, warehouse and publish folder."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import DEFAULTS

REPO = Path(__file__).resolve().parent.parent
# every setting blank, so each takes its embedded default (relative to the working folder)
DEFAULT_ENV = {key: "" for key in DEFAULTS}


def pytest_configure(config: pytest.Config) -> None:
    """Definitions load from the dbt manifest: parse the project once, before any test (or xdist worker) starts."""
    if not hasattr(config, "workerinput"):
        from orchestration.runner import ensure_manifest

        ensure_manifest()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The Spark tests first (a stable sort): with xdist's loadfile their long module fixtures then start at once,
    beside the rest of the suite, instead of last on one worker."""
    items.sort(key=lambda item: item.get_closest_marker("spark") is None)


def point_settings_at(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every SEGMENTS_* setting into root (and clear any set by the caller)."""
    for key in DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SEGMENTS_LANDING_DIR", str(root / "landing"))
    monkeypatch.setenv("SEGMENTS_WAREHOUSE", str(root / "warehouse.duckdb"))
    monkeypatch.setenv("SEGMENTS_PUBLISH_DIR", str(root / "publish"))
    (root / "landing").mkdir(exist_ok=True)
    return root


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return point_settings_at(tmp_path, monkeypatch)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed `segments` console script as a user would."""
    full_env = {**os.environ, **(env or {})}
    script = Path(sys.executable).with_name("segments")
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600)


RESULT_TABLES = ("customer_segments", "segment_summary", "customer_tags", "segment_history", "cluster_profiles",
                 "segment_rules_explained")


@pytest.fixture(scope="session")
def project(tmp_path_factory, worker_id):
    """A fresh folder where a user runs `segments demo` with no settings at all. Built once for the whole session,
    also when xdist runs the tests in several workers, which then share it: read it, or copy it to change it."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    root, outcome = shared / "e2e", shared / "e2e.json"
    with (shared / "e2e.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds it, the others wait for it
        if not outcome.exists():
            root.mkdir()
            env = {key: "" for key in DEFAULTS}
            result = run_cli("demo", "--customers", "400", "--orders", "4000", cwd=root,
                             env={**{k: v for k, v in os.environ.items() if k not in DEFAULTS}, **env})
            outcome.write_text(json.dumps([result.args, result.returncode, result.stdout, result.stderr]))
    return root, subprocess.CompletedProcess(*json.loads(outcome.read_text()))


def copy_project(root: Path, dest: Path) -> Path:
    """A second folder with the project's landing zone, warehouse and publication (links kept as links)."""
    shutil.copytree(root / "data", dest / "data", symlinks=True)
    return dest


def bi(root: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(root / "data" / "publish" / "bi.duckdb"), read_only=True)


def snapshot(root: Path) -> dict[str, list[tuple]]:
    with bi(root) as con:
        return {t: con.execute(f"select * from {t} order by all").fetchall() for t in RESULT_TABLES}


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "test-output"


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (`.ci/run` installs the package)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium fonts-wqy-microhei")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


def open_page(browser, url: str):
    """A page with every console error and uncaught exception collected."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(f"console: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.goto(url, wait_until="load")
    return page, problems
