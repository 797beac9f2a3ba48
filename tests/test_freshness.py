"""A run with nothing new costs nothing: `segments run` and the daily schedule leave a current publication alone,
and any change to what a run reads (a landing file, segments.yml, a setting, the publication itself) runs again."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.schedules import daily_schedule
from orchestration.freshness import nothing_new
from orchestration.settings import DEFAULTS, PROJECT_ROOT, Settings
from tests.conftest import bi, copy_project, run_cli, snapshot


def _env(root: Path) -> dict[str, str]:
    data = root / "data"
    return {**{key: "" for key in DEFAULTS}, "SEGMENTS_LANDING_DIR": str(data / "landing"),
            "SEGMENTS_WAREHOUSE": str(data / "warehouse.duckdb"), "SEGMENTS_PUBLISH_DIR": str(data / "publish"),
            "SEGMENTS_RULES_FILE": str(root / "segments.yml")}


@pytest.fixture(scope="module")
def published(project, tmp_path_factory):
    """A copy of the demo project, run once with its own paths (and its own copy of segments.yml)."""
    root = copy_project(project[0], tmp_path_factory.mktemp("fresh"))
    shutil.copyfile(PROJECT_ROOT / "segments.yml", root / "segments.yml")
    result = run_cli("run", "--quiet", cwd=root, env=_env(root))
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def settings_of(published, monkeypatch):
    def resolve(**changes: str) -> Settings:
        for key, value in {**_env(published), **changes}.items():
            monkeypatch.setenv(key, value)
        return Settings.from_env()
    return resolve


def _releases(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "data" / "publish" / "releases").iterdir())


def test_a_run_with_nothing_new_leaves_the_publication_and_says_so(published):
    before, releases = snapshot(published), _releases(published)
    result = run_cli("run", "--json", cwd=published, env=_env(published))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "unchanged"
    assert summary["release"] == (published / "data" / "publish" / "current").resolve().name
    assert summary["customers"] == 400
    assert _releases(published) == releases and snapshot(published) == before

    text = run_cli("run", cwd=published, env=_env(published))
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"nothing new since release {summary['release']}")


def test_any_change_to_what_a_run_reads_runs_again(published, settings_of):
    release = (published / "data" / "publish" / "current").resolve().name
    assert nothing_new(settings_of()) == release

    orders = published / "data" / "landing" / "orders_2026.csv"
    stamp = orders.stat()
    os.utime(orders, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))  # rewritten in place
    assert nothing_new(settings_of()) is None
    os.utime(orders, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert nothing_new(settings_of()) == release

    notes = published / "data" / "landing" / "README.txt"  # not a file any run reads
    notes.write_text("exported by the shop system\n")
    assert nothing_new(settings_of()) == release
    new_file = published / "data" / "landing" / "orders_next.csv"
    new_file.write_text(orders.read_text().splitlines()[0] + "\n")
    assert nothing_new(settings_of()) is None
    new_file.unlink()

    assert nothing_new(settings_of(SEGMENTS_MAX_REJECT_RATE="0")) is None
    assert nothing_new(settings_of(SEGMENTS_AS_OF="2026-01-31")) is None
    rules = published / "segments.yml"
    original = rules.read_text(encoding="utf-8")
    rules.write_text(original + "\n# a comment is a change too\n", encoding="utf-8")
    assert nothing_new(settings_of()) is None
    rules.write_text(original, encoding="utf-8")
    assert nothing_new(settings_of()) == release

    # a missing warehouse, or a damaged publication, is built and published again
    warehouse = published / "data" / "warehouse.duckdb"
    warehouse.rename(warehouse.with_suffix(".moved"))
    assert nothing_new(settings_of()) is None
    warehouse.with_suffix(".moved").rename(warehouse)
    assert nothing_new(settings_of()) == release
    table = published / "data" / "publish" / "current" / "segment_summary.parquet"
    table.rename(table.with_suffix(".moved"))
    assert nothing_new(settings_of()) is None
    table.with_suffix(".moved").rename(table)
    assert nothing_new(settings_of()) == release


def test_the_daily_schedule_skips_a_tick_with_nothing_new(published, settings_of):
    settings_of()
    skipped = daily_schedule(dg.build_schedule_context())
    assert isinstance(skipped, dg.SkipReason) and "nothing new since release" in skipped.skip_message
    settings_of(SEGMENTS_REPORTING_CURRENCY="USD")
    assert isinstance(daily_schedule(dg.build_schedule_context()), dg.RunRequest)


def test_forget_makes_the_next_run_rebuild(published, settings_of, tmp_path):
    data = published / "data"
    shutil.copytree(data, tmp_path / "data", symlinks=True)  # put back afterwards: the module shares it
    try:
        with bi(published) as con:
            [(customer_id,)] = con.execute("select min(customer_id) from customer_segments").fetchall()
        assert nothing_new(settings_of())
        erased = run_cli("forget", customer_id, cwd=published, env=_env(published))
        assert erased.returncode == 0, erased.stderr
        assert nothing_new(settings_of()) is None
    finally:
        shutil.rmtree(data)
        shutil.copytree(tmp_path / "data", data, symlinks=True)


def test_a_reader_that_stops_early_gets_no_traceback(published):
    """`segments run | head -1`: the output's reader goes away; the command ends like a Unix tool on SIGPIPE."""
    script = Path(sys.executable).with_name("segments")
    process = subprocess.Popen([str(script), "run"], cwd=published, env={**os.environ, **_env(published)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # before the command writes its first line
    errors = process.stderr.read().decode()
    assert process.wait(timeout=300) == 141
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
