"""Faults a run must survive: kill -9 in every phase, a second run at the same time, a full spill folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.lock import run_lock
from orchestration.settings import DEFAULTS, Settings
from tests.conftest import copy_project, run_cli, snapshot

DEFAULT_ENV = {key: "" for key in DEFAULTS}


def start_run(root: Path) -> subprocess.Popen:
    script = Path(sys.executable).with_name("segments")
    return subprocess.Popen([str(script), "run"], cwd=root, env={**os.environ, **DEFAULT_ENV},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_at(process: subprocess.Popen, moment, settle: float = 0.0) -> tuple[str, str, set[int]]:
    """kill -9 the run (its own process only, as a crash or the OOM killer would) once `moment` holds for
    the progress printed so far; returns the progress before and after the kill and the run's children then."""
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if moment(lines):
            time.sleep(settle)
            children = descendants(process.pid)
            os.kill(process.pid, signal.SIGKILL)
            break
    else:
        pytest.fail("the run ended before the moment came: " + "".join(lines) + process.stderr.read())
    rest = process.stdout.read()
    process.wait(timeout=60)
    return "".join(lines), rest, children


def last_is(phase: str, outcome: str):
    return lambda lines: lines[-1].split()[:2] == [phase, outcome]


def assert_untouched(root: Path, link: str, published: dict) -> None:
    """The previous publication is in place and whole, and the warehouse opens."""
    publish = root / "data" / "publish"
    assert os.readlink(publish / "current") == link
    assert snapshot(root) == published
    with duckdb.connect(str(root / "data" / "warehouse.duckdb")) as con:
        assert con.execute("select count(*) from information_schema.tables").fetchone()[0] > 0


def test_kill_9_in_load_transform_and_checks_keeps_the_publication_and_a_rerun_matches(project, tmp_path):
    root = copy_project(project[0], tmp_path / "copy")
    publish = root / "data" / "publish"
    link, published = os.readlink(publish / "current"), snapshot(root)
    # an empty warehouse, so that the load has every file to land
    for leftover in (root / "data").glob("warehouse.duckdb*"):
        leftover.unlink()

    before, after, _ = kill_at(start_run(root), last_is("load", "started"))
    assert "load" not in after, before + after
    assert_untouched(root, link, published)

    before, after, children = kill_at(start_run(root), last_is("transform", "started"), settle=4)
    assert "transform" not in after, before + after
    dbt = [pid for pid in children if "dbt" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")]
    assert dbt, "dbt was not running when the run was killed"
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in children), "dbt kept writing after its run was killed"
    assert_untouched(root, link, published)

    before, after, _ = kill_at(
        start_run(root), lambda lines: lines[-1].split()[0] == "checks" and "transform" in "".join(lines))
    assert "publish" not in before + after
    assert_untouched(root, link, published)

    rerun = run_cli("run", cwd=root, env=DEFAULT_ENV)
    assert rerun.returncode == 0, rerun.stderr
    assert os.readlink(publish / "current") != link
    assert snapshot(root) == published
    assert not list((publish / "releases").glob(".*"))


HOLD_LOCK = """
import sys, time
from orchestration.lock import run_lock
from orchestration.settings import Settings
with run_lock(Settings.from_env(), purpose="test holder"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def hold_lock(root: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(seconds)], cwd=root,
                              env={**os.environ, **DEFAULT_ENV}, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_run_exits_in_one_line_or_waits_for_the_first(project, tmp_path):
    root = copy_project(project[0], tmp_path / "copy")
    link = os.readlink(root / "data" / "publish" / "current")
    holder = hold_lock(root, 300)
    try:
        refused = run_cli("run", cwd=root, env=DEFAULT_ENV)
        assert refused.returncode != 0
        [line] = refused.stderr.strip().splitlines()
        assert "another run holds the lock" in line and "test holder" in line
        assert os.readlink(root / "data" / "publish" / "current") == link
        # a run inside Dagster (the schedule, the sensor, the UI) is refused the same way
        forget = run_cli("forget", "C00000001", cwd=root, env=DEFAULT_ENV)
        assert forget.returncode != 0 and "another run holds the lock" in forget.stderr
    finally:
        holder.kill()
        holder.wait()
    holder = hold_lock(root, 3)
    waited = run_cli("run", "--quiet", cwd=root, env={**DEFAULT_ENV, "SEGMENTS_LOCK_WAIT_SECONDS": "120"})
    holder.wait()
    assert waited.returncode == 0, waited.stderr
    assert "waiting up to 120 s" in waited.stderr
    assert "warning: SEGMENTS_PSEUDONYM_KEY is not set" in waited.stderr  # the demo key, said after the run
    assert os.readlink(root / "data" / "publish" / "current") != link


def test_the_lock_covers_runs_started_by_dagster(workspace):
    from orchestration.runner import run_pipeline

    holder = hold_lock(workspace, 300)
    try:
        outcome = run_pipeline(workspace / "run.log")
    finally:
        holder.kill()
        holder.wait()
    assert not outcome.success
    assert "another run holds the lock" in outcome.reason
    with run_lock(Settings.from_env()):  # released again by the dead holder
        pass
