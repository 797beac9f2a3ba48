"""A BI client in its own process: keeps reading every published table until told to stop.

Each read opens bi.duckdb read-only (as a BI tool does) and, separately, the Parquet files of the
release `current` points at, and records one JSON line: what it saw, or the error it got.
"""

import json
import os
import sys
import time
from pathlib import Path

import duckdb

publish_dir, stop_file, out_file = (Path(a) for a in sys.argv[1:4])
TABLES = ("customer_segments", "segment_summary", "customer_tags", "segment_history", "load_audit",
          "segment_playbook", "audience_summary")


def fingerprint(con: duckdb.DuckDBPyConnection, source) -> dict:
    """Numbers that must agree inside one publication; they differ between publications here."""
    customers = con.execute(f"select count(*) from {source('customer_segments')}").fetchone()[0]
    summary = con.execute(f"select sum(customers) from {source('segment_summary')} "
                          "where dimension = 'business_segment'").fetchone()[0]
    playbook = con.execute(f"select sum(customers) from {source('segment_playbook')}").fetchone()[0]
    files = con.execute(f"select count(*) from {source('load_audit')}").fetchone()[0]
    for table in TABLES:
        con.execute(f"select * from {source(table)} limit 5").fetchall()
    return {"customers": customers, "summary": int(summary), "playbook": int(playbook), "files": files}


def parquet_in(release: Path):
    return lambda table: f"read_parquet('{release / (table + '.parquet')}')"


with out_file.open("w") as out:
    while not stop_file.exists():
        record = {"t": time.time()}
        try:
            with duckdb.connect(str(publish_dir / "bi.duckdb"), read_only=True) as con:
                record["bi"] = fingerprint(con, lambda t: t)
            release = Path(os.path.realpath(publish_dir / "current"))
            with duckdb.connect() as con:
                record["parquet"] = fingerprint(con, parquet_in(release))
        except Exception as error:  # every error is what the test is looking for
            record["error"] = f"{type(error).__name__}: {error}"
        out.write(json.dumps(record) + "\n")
        out.flush()
        time.sleep(0.2)  # a BI client, not a busy loop: it shares the two cores with the run it watches
