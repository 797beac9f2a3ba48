"""Publish mart tables for BI: a new complete release, then one-step switches of current/ and bi.duckdb."""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orchestration.contract import is_pii
from orchestration.db import connect, execute_one, ident, literal
from orchestration.freshness import INPUTS_FILE
from orchestration.report import build_report
from orchestration.settings import Settings
from orchestration.warehouse import read_warehouse

PUBLISHED_TABLES = (
    "customer_segments",
    "segment_summary",
    "customer_tags",
    "segment_history",
    "load_audit",
    "customer_identity_map",
    "data_completeness",
    "segment_playbook",
    "cac_by_channel",
    "audience_summary",
    "erasure_log",
    "clv_model_fit",
    "cluster_profiles",
    "segment_rules_explained",
    "clv_backtest",
    "product_associations",
    "customer_recommendations",
    "segment_transitions",
    "category_trends",
    "segment_kpis",
    "audience_evaluation",
    "override_log",
)

# Column names each CRM's import maps without a custom mapping step; the customer id is the
# external id (upsert key) and no identifying data leaves.
CRM_LAYOUTS = {
    "salesforce": ("External_Id__c", "Segment__c", "Tags__c", "Recommended_Action__c", "As_Of_Date__c"),
    "hubspot": ("customer_id", "segment", "tags", "recommended_action", "as_of_date"),
    "zoho": ("External ID", "Segment", "Tag", "Recommended Action", "As Of Date"),
}

BI_STORAGE_VERSION = "v1.4.0"


class PublicationError(RuntimeError):
    """The publication was refused; the previous one stays in place."""


@dataclass(frozen=True)
class Publication:
    release_dir: Path
    bi_file: Path
    row_counts: dict[str, int]


def pii_columns(columns: list[str]) -> list[str]:
    """Direct identifiers never leave the warehouse (CONTRACT section 4)."""
    return [c for c in columns if is_pii(c)]


def publish(
    warehouse: Path | Settings,
    publish_dir: Path,
    schema: str = "marts",
    tables: tuple[str, ...] = PUBLISHED_TABLES,
    keep: int = 3,
    report: bool = True,
    docs: Path | None = None,
    inputs: str | None = None,
) -> Publication:
    """Write every table to a fresh release, then switch current/ and bi.duckdb to it. `warehouse` is a DuckDB file,
    or the settings of a run, whose engine's tables are read (orchestration/warehouse.py: on Spark, the Parquet files
    Spark wrote). `inputs`, the digest of what the run read (orchestration/freshness.py), lets a later run with
    nothing new leave this release current."""
    releases = publish_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    clean_leftovers(publish_dir)
    release = releases / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    staging = releases / f".{release.name}.partial"
    staging.mkdir()
    try:
        counts = _export_parquet(warehouse, schema, tables, staging)
        _export_audiences(warehouse, schema, staging / "audiences")
        build_bi_file(staging, tables, staging / "bi.duckdb")
        if (publish_dir / "quality").is_dir():
            shutil.copytree(publish_dir / "quality", staging / "quality")
        if report:
            build_report(staging / "bi.duckdb", staging, docs_link="docs/index.html" if docs else None)
        if docs:
            (staging / "docs").mkdir()
            shutil.copyfile(docs, staging / "docs" / "index.html")
        if inputs:
            (staging / INPUTS_FILE).write_text(inputs + "\n", encoding="utf-8")
        _fsync_tree(staging)
        staging.rename(release)
        _fsync(releases)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _switch(publish_dir, release)
    _prune(releases, keep)
    return Publication(release_dir=release, bi_file=publish_dir / "bi.duckdb", row_counts=counts)


def _reading(warehouse: Path | Settings):
    return read_warehouse(warehouse) if isinstance(warehouse, Settings) else connect(warehouse, read_only=True)


def _export_parquet(warehouse: Path | Settings, schema: str, tables: tuple[str, ...], out: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with _reading(warehouse) as con:
        for table in tables:
            columns = [row[0] for row in con.execute(f"describe {schema}.{table}").fetchall()]
            leaked = pii_columns(columns)
            if leaked:
                raise PublicationError(f"{table} carries identifying columns {leaked}; refusing to publish")
            execute_one(con, f"copy {schema}.{ident(table)} to {literal(out / (table + '.parquet'))} (format parquet)")
            counts[table] = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    return counts


def _export_audiences(warehouse: Path | Settings, schema: str, out: Path) -> None:
    """One CSV per audience and CRM, UTF-8 with BOM so that Excel shows Chinese; opted-out customers and the
    audience's control group left out."""
    with _reading(warehouse) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = 'audience_members'",
            [schema]).fetchone()[0]
        if not exists:
            return
        rows = con.execute(
            f"select audience, customer_id, segment, tags, recommended_action, cast(as_of_date as varchar) "
            f"from {schema}.audience_members where not marketing_opt_out and not in_holdout "
            f"order by audience, customer_id").fetchall()
        audiences = [a for (a,) in con.execute(
            f"select distinct audience from {schema}.audience_members order by 1").fetchall()]
    out.mkdir()
    for audience in audiences:
        members = [row[1:] for row in rows if row[0] == audience]
        for crm, header in CRM_LAYOUTS.items():
            with (out / f"{audience}__{crm}.csv").open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(members)


def build_bi_file(release: Path, tables: tuple[str, ...], target: Path) -> None:
    """A self-contained DuckDB file in a storage format that DuckDB 1.4+ (BI drivers) can open."""
    with connect(target, config={"storage_compatibility_version": BI_STORAGE_VERSION}) as con:
        for table in tables:
            execute_one(con, f"create table {ident(table)} as select * from read_parquet("
                             f"{literal(release / (table + '.parquet'))})")
        con.execute("checkpoint")


def _switch(publish_dir: Path, release: Path) -> None:
    """One rename switches everything: rename() over an existing name is atomic, so readers see the old
    release or the new one, never a mix, and bi.duckdb (a fixed link into current/) always agrees."""
    link_tmp = publish_dir / ".current.tmp"
    link_tmp.unlink(missing_ok=True)
    link_tmp.symlink_to(Path("releases") / release.name, target_is_directory=True)
    os.replace(link_tmp, publish_dir / "current")
    _fsync(publish_dir)
    _link_bi_file(publish_dir)


def _link_bi_file(publish_dir: Path) -> None:
    # Readers holding an old bi.duckdb keep their open file; new readers open the current one.
    bi_file = publish_dir / "bi.duckdb"
    target = Path("current") / "bi.duckdb"
    if bi_file.is_symlink() and Path(os.readlink(bi_file)) == target:
        return
    bi_tmp = publish_dir / ".bi.duckdb.tmp"
    bi_tmp.unlink(missing_ok=True)
    bi_tmp.symlink_to(target)
    os.replace(bi_tmp, bi_file)
    _fsync(publish_dir)


def clean_leftovers(publish_dir: Path) -> list[str]:
    """Remove what an interrupted publication left: partial releases and temporary links."""
    removed = []
    releases = publish_dir / "releases"
    for partial in sorted(releases.glob(".*.partial")) if releases.is_dir() else []:
        shutil.rmtree(partial, ignore_errors=True)
        removed.append(partial.name)
    for temporary in (publish_dir / ".current.tmp", publish_dir / ".bi.duckdb.tmp"):
        if temporary.is_symlink() or temporary.exists():
            temporary.unlink()
            removed.append(temporary.name)
    return removed


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_tree(root: Path) -> None:
    """Every file and folder of a release on disk before it can become current."""
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync(Path(folder) / name)
        _fsync(Path(folder))


def _prune(releases: Path, keep: int) -> None:
    current = (releases.parent / "current").resolve()
    finished = sorted(p for p in releases.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in finished[:-keep]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)
