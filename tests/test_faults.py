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
from orchestration.settings import Settings
from tests.conftest import DEFAULT_ENV, copy_project, run_cli, snapshot, write_csv


def start_run(root: Path, **env: str) -> subprocess.Popen:
    script = Path(sys.executable).with_name("segments")
    return subprocess.Popen([str(script), "run"], cwd=root, env={**os.environ, **DEFAULT_ENV, **env},
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


def command_lines(pids: set[int]) -> dict[int, str]:
    lines = {}
    for pid in pids:
        try:
            lines[pid] = Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
        except OSError:
            continue
    return lines


def dbt_started(pid: int) -> bool:
    if not any("dbt" in line for line in command_lines(descendants(pid)).values()):
        return False
    time.sleep(2)  # into dbt's own work
    return True


def kill_at(process: subprocess.Popen, moment, busy=None) -> tuple[str, str, dict[int, str]]:
    """kill -9 the run (its own process only, as a crash or the OOM killer would) once `moment` holds for
    the progress printed so far (and `busy(pid)` once it does); returns the progress before and after the
    kill and the command lines of the run's children then."""
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if moment(lines):
            deadline = time.monotonic() + 120
            while busy and not busy(process.pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            children = command_lines(descendants(process.pid))
            os.kill(process.pid, signal.SIGKILL)
            break
    else:
        pytest.fail("the run ended before the moment came: " + "".join(lines) + process.stderr.read())
    rest = process.stdout.read()
    process.wait(timeout=60)
    return "".join(lines), rest, children


def said(lines: list[str] | str, phase: str, outcome: str | None = None) -> bool:
    """Whether a progress line of `phase` (with `outcome`: started, done, failed) was printed."""
    lines = lines.splitlines() if isinstance(lines, str) else lines
    return any(line.split()[:1] == [phase] and (outcome is None or line.split()[1:2] == [outcome])
               for line in lines)


def last_is(phase: str, outcome: str):
    return lambda lines: said(lines[-1:], phase, outcome)


def assert_untouched(root: Path, link: str, published: dict) -> None:
    """The previous publication is in place and whole, and the warehouse opens."""
    publish = root / "data" / "publish"
    assert os.readlink(publish / "current") == link
    assert snapshot(root) == published
    with duckdb.connect(str(root / "data" / "warehouse.duckdb")) as con:
        con.execute("select count(*) from information_schema.tables").fetchall()


def test_kill_9_in_load_transform_and_checks_keeps_the_publication_and_a_rerun_matches(project, tmp_path):
    root = copy_project(project[0], tmp_path / "copy")
    publish = root / "data" / "publish"
    link, published = os.readlink(publish / "current"), snapshot(root)
    # an empty warehouse, so that the load has every file to land
    for leftover in (root / "data").glob("warehouse.duckdb*"):
        leftover.unlink()

    before, after, _ = kill_at(start_run(root), last_is("load", "started"))
    assert not said(after, "load"), before + after
    assert_untouched(root, link, published)

    before, after, children = kill_at(start_run(root), last_is("transform", "started"), busy=dbt_started)
    assert not said(after, "transform"), before + after
    assert any("dbt" in line for line in children.values()), "dbt was not running when the run was killed"
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(pid) for pid in children), "dbt kept writing after its run was killed"
    assert_untouched(root, link, published)

    # checks on landed files start before the transform; kill in those that follow it
    in_checks = lambda lines: said(lines[-1:], "checks") and said(lines, "transform", "done")  # noqa: E731
    before, after, _ = kill_at(start_run(root), in_checks)
    assert not said(before + after, "publish", "started"), before + after
    assert_untouched(root, link, published)

    # the rerun, started while another run holds the lock, waits for it; the holder lets go once it does
    holder = hold_lock(root, 300)
    rerun = start_run(root, SEGMENTS_LOCK_WAIT_SECONDS="300")
    waiting = rerun.stderr.readline()
    holder.kill()
    holder.wait()
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, waiting + err
    assert "waiting up to 300 s for the run holding" in waiting and "test holder" in waiting, waiting + err
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


def hold_lock(root: Path, seconds: float, env: dict[str, str] = DEFAULT_ENV) -> subprocess.Popen:
    """Another process holding the run lock of the settings that `env` gives in `root`."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(seconds)], cwd=root,
                              env={**os.environ, **env}, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_run_or_forget_exits_in_one_line_while_a_run_holds_the_lock(project, tmp_path):
    root = copy_project(project[0], tmp_path / "copy")
    link = os.readlink(root / "data" / "publish" / "current")
    holder = hold_lock(root, 300)
    try:
        refused = run_cli("run", cwd=root, env=DEFAULT_ENV)
        assert refused.returncode != 0
        [line] = refused.stderr.strip().splitlines()
        assert "another run holds the lock" in line and "test holder" in line
        assert os.readlink(root / "data" / "publish" / "current") == link
        forget = run_cli("forget", "C00000001", cwd=root, env=DEFAULT_ENV)
        assert forget.returncode != 0 and "another run holds the lock" in forget.stderr
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_covers_runs_started_by_dagster(workspace):
    from orchestration.runner import run_pipeline

    # a run inside Dagster (the schedule, the sensor, the UI) is refused the same way
    holder = hold_lock(workspace, 300, env={})  # the workspace's settings, as this process has them
    try:
        outcome = run_pipeline(workspace / "run.log")
    finally:
        holder.kill()
        holder.wait()
    assert not outcome.success
    assert "another run holds the lock" in outcome.reason
    with run_lock(Settings.from_env()):  # released again by the dead holder
        pass


def test_a_full_spill_folder_fails_in_one_line_that_does_not_blame_the_file(workspace):
    """SEGMENTS_TEMP_DIR on a 1 MB file system (a tmpfs in a private mount namespace): loading a 3 MB file
    with mixed line endings needs a spill copy there, and the disk fills."""
    landing = workspace / "landing"
    write_csv(landing / "customers.csv", ["customer_id", "signup_ts"], [["c1", "2026-01-01"]])
    rows = "".join(f"o{n},c1,2026-01-02T00:00:00" + ("\r\n" if n % 2 else "\n") for n in range(100_000))
    (landing / "orders.csv").write_bytes(("order_id,customer_id,order_ts\r\n" + rows).encode())
    spill = workspace / "spill"
    spill.mkdir()
    segments = Path(sys.executable).with_name("segments")
    result = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c",
         'mount -t tmpfs -o size=1m tmpfs "$SEGMENTS_TEMP_DIR" && exec "$0" run', str(segments)],
        cwd=workspace, env={**os.environ, "SEGMENTS_TEMP_DIR": str(spill)}, capture_output=True, text=True,
        timeout=600)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert "ran out of memory or spill space while loading orders.csv (the file is not at fault)" in line, line
    assert "No space left on device" in line and "SEGMENTS_TEMP_DIR" in line
    assert "cannot read" not in line
    assert not (workspace / "publish" / "bi.duckdb").exists()
