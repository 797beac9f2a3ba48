"""Publishing: complete releases, one-step switches, pruning, and refusal of identifying columns."""

import os
import shutil
import subprocess

import duckdb
import pytest

from orchestration.publish import PublicationError, publish

TABLES = ("customer_segments", "segment_summary")


def make_warehouse(path, version: int, extra_column: str | None = None) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        extra = f", 'x' as {extra_column}" if extra_column else ""
        con.execute(f"create or replace table marts.customer_segments as "
                    f"select 'c' || i as customer_id, {version} as version{extra} from range(3) t(i)")
        con.execute(f"create or replace table marts.segment_summary as "
                    f"select 'value_tier' as dimension, {version} as version")


def versions(bi_file) -> set[int]:
    with duckdb.connect(str(bi_file), read_only=True) as con:
        return {row[0] for t in TABLES for row in con.execute(f"select distinct version from {t}").fetchall()}


def test_publication_switches_bi_file_and_current_together(tmp_path):
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "publish"
    make_warehouse(warehouse, 1)
    first = publish(warehouse, out, report=False, tables=TABLES)
    assert first.row_counts == {"customer_segments": 3, "segment_summary": 1}
    assert versions(out / "bi.duckdb") == {1}
    reader = duckdb.connect(str(out / "bi.duckdb"), read_only=True)
    make_warehouse(warehouse, 2)
    publish(warehouse, out, report=False, tables=TABLES)
    # a reader that opened the old publication keeps reading it whole; new readers see the new one
    assert {r[0] for r in reader.execute("select distinct version from customer_segments").fetchall()} == {1}
    reader.close()
    assert versions(out / "bi.duckdb") == {2}
    parquet = duckdb.execute(
        f"select distinct version from read_parquet('{out / 'current' / '*.parquet'}')").fetchall()
    assert parquet == [(2,)]
    assert (out / "current").is_symlink()


def test_old_releases_are_pruned_to_the_number_kept(tmp_path):
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "publish"
    for version in range(5):
        make_warehouse(warehouse, version)
        latest = publish(warehouse, out, report=False, tables=TABLES, keep=2)
    releases = sorted(p.name for p in (out / "releases").iterdir())
    assert len(releases) == 2 and releases[-1] == latest.release_dir.name
    assert os.readlink(out / "current") == f"releases/{latest.release_dir.name}"


def test_identifying_columns_are_refused_and_the_previous_publication_stays(tmp_path):
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "publish"
    make_warehouse(warehouse, 1)
    publish(warehouse, out, report=False, tables=TABLES)
    make_warehouse(warehouse, 2, extra_column="email")
    with pytest.raises(PublicationError, match="customer_segments carries identifying columns"):
        publish(warehouse, out, report=False, tables=TABLES)
    assert versions(out / "bi.duckdb") == {1}
    assert len([p for p in (out / "releases").iterdir()]) == 1


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv installs the older DuckDB client")
def test_bi_file_opens_in_duckdb_1_4(tmp_path):
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "publish"
    make_warehouse(warehouse, 7)
    publish(warehouse, out, report=False, tables=TABLES)
    script = (
        "import duckdb, sys; assert duckdb.__version__.startswith('1.4'), duckdb.__version__; "
        f"con = duckdb.connect({str(out / 'bi.duckdb')!r}, read_only=True); "
        "print(con.execute('select count(*), max(version) from customer_segments').fetchone())"
    )
    result = subprocess.run(
        ["uv", "run", "--no-project", "--quiet", "--with", "duckdb==1.4.4", "python", "-c", script],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(3, 7)"


def test_bi_file_is_one_link_into_current_so_they_never_disagree(tmp_path):
    warehouse, out = tmp_path / "w.duckdb", tmp_path / "publish"
    make_warehouse(warehouse, 1)
    publish(warehouse, out, report=False, tables=TABLES)
    make_warehouse(warehouse, 2)
    second = publish(warehouse, out, report=False, tables=TABLES)
    assert os.readlink(out / "bi.duckdb") == os.path.join("current", "bi.duckdb")
    assert (out / "bi.duckdb").resolve() == (second.release_dir / "bi.duckdb").resolve()


KILL_DURING_PUBLISH = """
import os, signal, sys
from pathlib import Path
import orchestration.publish as publish

moment = sys.argv[3]
real_replace, real_fsync, real_export = os.replace, publish._fsync, publish.build_bi_file

def kill():
    os.kill(os.getpid(), signal.SIGKILL)

def replace(src, dst):
    if moment == "before_switch" and Path(dst).name == "current":
        kill()
    real_replace(src, dst)
    if moment == "after_switch" and Path(dst).name == "current":
        kill()

def build(*args):
    real_export(*args)
    if moment == "writing_release":
        kill()

os.replace, publish.build_bi_file = replace, build
publish.publish(Path(sys.argv[1]), Path(sys.argv[2]), report=False, tables=("customer_segments", "segment_summary"))
"""


@pytest.mark.parametrize("moment", ["writing_release", "before_switch", "after_switch"])
def test_kill_9_during_publication_leaves_a_whole_publication(tmp_path, moment):
    import sys

    warehouse, out = tmp_path / "w.duckdb", tmp_path / "publish"
    make_warehouse(warehouse, 1)
    publish(warehouse, out, report=False, tables=TABLES)
    make_warehouse(warehouse, 2)
    killed = subprocess.run([sys.executable, "-c", KILL_DURING_PUBLISH, str(warehouse), str(out), moment],
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    # whatever the moment, readers get one whole publication, and bi.duckdb agrees with current/
    expected = {2} if moment == "after_switch" else {1}
    assert versions(out / "bi.duckdb") == expected
    parquet = duckdb.execute(
        f"select distinct version from read_parquet('{out / 'current' / '*.parquet'}')").fetchall()
    assert {v for (v,) in parquet} == expected
    # the next publication cleans up what was left and switches normally
    make_warehouse(warehouse, 3)
    publish(warehouse, out, report=False, tables=TABLES)
    assert versions(out / "bi.duckdb") == {3}
    assert not list((out / "releases").glob(".*")) and not (out / ".current.tmp").exists()


def test_paths_with_quotes_and_semicolons_publish(tmp_path):
    folder = tmp_path / "it's; drop table x; --"
    folder.mkdir()
    warehouse, out = folder / "w'1.duckdb", folder / "pub'lish"
    make_warehouse(warehouse, 1)
    publish(warehouse, out, report=False, tables=TABLES)
    assert versions(out / "bi.duckdb") == {1}
    assert sorted(p.name for p in (out / "current").glob("*.parquet")) == [f"{t}.parquet" for t in sorted(TABLES)]
