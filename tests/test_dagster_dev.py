"""`dagster dev` from the project root serves every asset, check and the daily schedule on localhost."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, SHOTS, open_page

QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
    schedules { name cronSchedule scheduleState { status } }
    assetNodes { assetKey { path } description groupName assetChecksOrError {
        ... on AssetChecks { checks { name } } } } } } } }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def restore_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def dagster_dev(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "SEGMENTS_WAREHOUSE": str(home / "warehouse.duckdb"),
           "SEGMENTS_PUBLISH_DIR": str(home / "publish")}
    dagster = Path(sys.executable).with_name("dagster")
    # its own session, so that SIGTERM reaches dagster dev and every child it started, and SIGINT
    # restored: a background job (CI) starts with SIGINT ignored, which children inherit, and with
    # it ignored dagster dev's children do not stop on SIGTERM until our timeout kills them
    process = subprocess.Popen(
        [str(dagster), "dev", "-p", str(port)], cwd=REPO, env=env, start_new_session=True,
        preexec_fn=restore_interrupt, stdout=subprocess.DEVNULL, stderr=(home / "dagster-dev.log").open("w"))
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((home / "dagster-dev.log").read_text()[-3000:]) from None
                time.sleep(1)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_ui_serves_assets_checks_and_schedule_on_localhost(dagster_dev):
    [location] = graphql(dagster_dev, QUERY)["data"]["repositoriesOrError"]["nodes"]
    assets = {"/".join(node["assetKey"]["path"]): node for node in location["assetNodes"]}
    assert {"raw/orders", "staging/stg_landing__orders", "intermediate/int_customers_segmented",
            "marts/customer_segments", "publish/bi_publication"} <= set(assets)
    assert all(node["description"] for node in assets.values())
    assert assets["marts/customer_segments"]["groupName"] == "marts"
    checks = {c["name"] for c in assets["marts/load_audit"]["assetChecksOrError"]["checks"]}
    assert {"rows_reconcile", "reject_rate_within_limit"} <= checks
    [schedule] = location["schedules"]
    assert schedule["cronSchedule"] == "0 5 * * *"
    assert schedule["scheduleState"]["status"] == "RUNNING"



def test_asset_list_shows_in_a_browser(dagster_dev, browser):
    page, problems = open_page(browser, f"http://127.0.0.1:{dagster_dev}/")
    try:
        page.evaluate("localStorage.setItem('communityNux', '1')")
        base = f"http://127.0.0.1:{dagster_dev}"

        def shows(text: str) -> None:
            page.wait_for_function("t => document.body.innerText.includes(t)", arg=text, timeout=60000)

        page.goto(f"{base}/assets", wait_until="load")
        shows("intermediate / int_as_of_date")  # the catalog lists keys as layer / name
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "dagster-assets.png"))
        page.goto(f"{base}/assets/marts/customer_segments", wait_until="load")
        shows("One row per customer known on the as-of date")
        page.goto(f"{base}/assets/publish/bi_publication", wait_until="load")
        shows("Switch bi.duckdb and current/*.parquet")
        # the asset graph, as a user reaches it from the catalog
        page.goto(f"{base}/assets", wait_until="load")
        page.get_by_text("View lineage").first.click()
        shows("Global asset lineage")
        for group in ("landing", "staging", "intermediate", "marts", "publish", "reference"):
            shows(group)  # one node per layer group, landing -> staging -> intermediate -> marts -> publish
        page.screenshot(path=str(SHOTS / "dagster-lineage.png"))
        assert [p for p in problems if p.startswith("pageerror:")] == []
    finally:
        page.close()  # the browser is shared by the session
