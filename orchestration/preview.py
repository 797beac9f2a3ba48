"""`segments preview --rules FILE`: the segments that proposed rules would give on the current warehouse, beside
today's, without publishing anything.

The warehouse is copied (under the run lock, so no run writes it meanwhile), dbt rebuilds on the copy every
table and view that leads to customer_segments with the proposed rules and parameters, and the copy's
customer_segments is compared with the warehouse's, dimension by dimension. Incremental models (the landed rows
and daily aggregates) and the fitted models (CLV, clusters) do not depend on the rules and are left as they are.
The from -> to matrix and the customers that would move are printed and written as CSV and JSON."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestration import rules
from orchestration.db import connect, literal
from orchestration.dbt_project import PROJECT_ROOT, dbt_vars
from orchestration.lock import run_lock
from orchestration.settings import Settings

BUILT_IN_DIMENSIONS = ("lifecycle_stage", "value_tier", "frequency_group", "rfm_segment")
# models that do not depend on segments.yml: kept from the warehouse, not rebuilt
KEPT = ("config.materialized:incremental", "clv_model_fit", "customer_clv", "clv_backtest", "cluster_profiles",
        "customer_clusters")


class PreviewError(RuntimeError):
    """The preview could not be computed; the message says why in one line."""


@dataclass(frozen=True)
class Preview:
    customers: int
    matrix: list[tuple[str, str | None, str | None, int]]  # dimension, from, to, customers
    moved: dict[str, int]  # dimension -> customers who would change segment
    files: list[Path]


def preview(settings: Settings, rules_file: Path, out_dir: Path) -> Preview:
    proposed = rules.load(rules_file)  # a RulesError names the place and the problem
    if settings.engine != "duckdb":
        raise PreviewError("segments preview rebuilds a copy of the DuckDB warehouse; it does not run on "
                           "SEGMENTS_ENGINE=spark yet (README, 'Beyond one machine')")
    if not settings.warehouse.exists():
        raise PreviewError(f"no warehouse at {settings.warehouse}: run `segments run` first")
    dimensions = list(dict.fromkeys([*BUILT_IN_DIMENSIONS, *(d["name"] for d in rules.load()["dimensions"]),
                                     *(d["name"] for d in proposed["dimensions"])]))
    scratch = Path(tempfile.mkdtemp(prefix="preview-", dir=settings.warehouse.parent))
    try:
        copy = scratch / "warehouse.duckdb"
        with run_lock(settings, purpose="segments preview"):
            shutil.copyfile(settings.warehouse, copy)
        _rebuild(settings, proposed, copy, scratch)
        matrix = _compare(settings, copy, dimensions)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _write(matrix, out_dir)


def _rebuild(settings: Settings, proposed: dict, copy: Path, scratch: Path) -> None:
    variables = dbt_vars(settings, proposed)
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt), "run", "--select", "+customer_segments", "--exclude", *KEPT,
               "--vars", json.dumps(variables), "--target-path", str(scratch / "target")]
    env = {**os.environ, "SEGMENTS_WAREHOUSE": str(copy)}
    result = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if "Error" in line]
        raise PreviewError(f"dbt failed on the proposed rules: {(errors or ['see dbt output'])[-1].strip()}")


def _compare(settings: Settings, copy: Path, dimensions: list[str]) -> list[tuple]:
    with connect(":memory:", settings) as con:
        con.execute(f"attach {literal(str(settings.warehouse))} as today (read_only)")
        con.execute(f"attach {literal(str(copy))} as proposed (read_only)")
        columns = {
            source: {name for (name,) in con.execute(
                "select column_name from duckdb_columns() where database_name = ? and schema_name = 'marts' "
                "and table_name = 'customer_segments'", [source]).fetchall()}
            for source in ("today", "proposed")}
        matrix = []
        for dimension in dimensions:
            old = f'today_rows."{dimension}"' if dimension in columns["today"] else "null"
            new = f'proposed_rows."{dimension}"' if dimension in columns["proposed"] else "null"
            matrix += con.execute(f"""
                select ? as dimension, {old} as from_segment, {new} as to_segment, count(*) as customers,
                    list(coalesce(today_rows.customer_id, proposed_rows.customer_id)
                         order by coalesce(today_rows.customer_id, proposed_rows.customer_id)) as customer_ids
                from today.marts.customer_segments as today_rows
                full join proposed.marts.customer_segments as proposed_rows using (customer_id)
                group by all
                order by from_segment nulls first, to_segment nulls first""", [dimension]).fetchall()
    return matrix


def _write(matrix: list[tuple], out_dir: Path) -> Preview:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / "preview_matrix.csv", out_dir / "preview_movers.csv", out_dir / "preview.json"]
    with files[0].open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["dimension", "from_segment", "to_segment", "customers"])
        writer.writerows(row[:4] for row in matrix)
    with files[1].open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "dimension", "from_segment", "to_segment"])
        writer.writerows((customer, dimension, old, new) for dimension, old, new, _, customers in matrix
                         if old != new for customer in customers)
    moved: dict[str, int] = {}
    for dimension, old, new, count, _ in matrix:
        moved[dimension] = moved.get(dimension, 0) + (count if old != new else 0)
    customers = sum(count for dimension, *_, count, _ in matrix if dimension == matrix[0][0]) if matrix else 0
    files[2].write_text(json.dumps({
        "customers": customers, "moved": moved,
        "matrix": [{"dimension": d, "from_segment": o, "to_segment": n, "customers": c} for d, o, n, c, _ in matrix],
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    return Preview(customers, [row[:4] for row in matrix], moved, files)


def describe(result: Preview) -> str:
    """What an analyst reads: per dimension, how many would move, and each from -> to with its count."""
    lines = [f"{result.customers} customers; nothing was published"]
    for dimension, count in result.moved.items():
        lines.append(f"{dimension}: {count} would move" if count else f"{dimension}: no change")
        lines += [f"  {old} -> {new}: {n}" for d, old, new, n in result.matrix if d == dimension and old != new]
    lines += [f"written: {path}" for path in result.files]
    return "\n".join(lines)
