"""Personal data: identifiers stay in raw, pseudonyms elsewhere, nothing identifying is published, and
`segments forget` erases a customer everywhere for good."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import duckdb

from tests.conftest import DEFAULT_ENV, bi, copy_project, run_cli

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
NUMBER = re.compile(r"\+?\d[\d \-]{5,}\d")


def identifiers(warehouse: Path) -> tuple[set[str], set[str]]:
    """The landed e-mail addresses (lower case) and phone numbers (digits, with and without +86)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select lower(trim(email)), phone from raw.customers").fetchall()
    emails = {email for email, _ in rows if email}
    phones = set()
    for _, phone in rows:
        digits = re.sub(r"\D", "", phone or "")
        if len(digits) >= 7:
            phones |= {digits, digits.removeprefix("86")}
    return emails, phones


def leaks(text: str, emails: set[str], phones: set[str], any_email: bool = True) -> list[str]:
    """Landed e-mails and phones found in a text, and (in data) anything shaped like an e-mail address."""
    found = [m.group(0) for m in EMAIL.finditer(text)] if any_email else []
    found += [m.group(0) for m in NUMBER.finditer(text) if re.sub(r"\D", "", m.group(0)) in phones]
    return found + [e for e in emails if e in text.lower()]


def relation_values(con: duckdb.DuckDBPyConnection, schemas_left_out: tuple[str, ...] = ()) -> dict[str, list]:
    """Every distinct text value of every table and view, by `schema.table.column`."""
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type in ('VARCHAR', 'JSON') order by all").fetchall()
    values = {}
    for schema, table, column in columns:
        if schema in schemas_left_out:
            continue
        rows = con.execute(f'select distinct "{column}" from "{schema}"."{table}" '
                           f'where "{column}" is not null').fetchall()
        values[f"{schema}.{table}.{column}"] = [value for (value,) in rows]
    return values


def test_no_email_or_phone_outside_raw_in_the_warehouse_the_publication_and_reports(project):
    root, _ = project
    data = root / "data"
    emails, phones = identifiers(data / "warehouse.duckdb")
    assert len(emails) > 100 and len(phones) > 100  # the demo carries identifiers to leak
    found = {}
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        scanned = relation_values(con, schemas_left_out=("raw",))
    assert any(name.startswith("main.quarantine.") for name in scanned)
    assert any(name.startswith("staging.stg_landing__customers.") for name in scanned)
    with bi(root) as con:
        scanned |= {f"bi.duckdb:{name}": values for name, values in relation_values(con).items()}
    for name, values in scanned.items():
        hits = [hit for value in values for hit in leaks(str(value), emails, phones)]
        if hits:
            found[name] = hits[:3]
    current = data / "publish" / "current"
    files = [*current.glob("*.parquet"), *current.glob("audiences/*.csv"), *current.glob("quality/*.html"),
             current / "report.html", data / "logs" / "segments-run.log"]
    assert len(files) > 15
    for path in files:
        if path.suffix == ".parquet":
            with duckdb.connect() as con:
                text = str(con.execute(f"select * from read_parquet('{path}')").fetchall())
        else:
            text = path.read_text(encoding="utf-8-sig")
        # pages carry library code (plotly's author addresses): there only the landed values count
        hits = leaks(text, emails, phones, any_email=path.suffix != ".html")
        if hits:
            found[str(path.relative_to(data))] = hits[:3]
    assert found == {}


def warehouse_hits(warehouse: Path, customer_id: str) -> dict[str, int]:
    """Where the id still stands as a whole value, or as a whole field of a record."""
    hits = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, values in relation_values(con).items():
            count = sum(1 for v in values if v == customer_id or customer_id in re.split(r'[,{}":\s]+', str(v)))
            if count:
                hits[name] = count
    return hits


def release_hits(release: Path, customer_id: str) -> list[str]:
    hits = []
    with duckdb.connect(str(release / "bi.duckdb"), read_only=True) as con:
        for (table,) in con.execute("select table_name from information_schema.tables").fetchall():
            columns = {c for (c,) in con.execute(f"select column_name from (describe {table})").fetchall()}
            if "customer_id" in columns and con.execute(
                    f"select count(*) from {table} where customer_id = ?", [customer_id]).fetchone()[0]:
                hits.append(f"bi.duckdb:{table}")
    with duckdb.connect() as con:
        for parquet in release.glob("*.parquet"):
            if customer_id in str(con.execute(f"select * from read_parquet('{parquet}')").fetchall()):
                hits.append(parquet.name)
    for path in release.glob("audiences/*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if any(customer_id in row for row in csv.reader(handle)):
                hits.append(path.name)
    return hits


def test_forget_erases_everywhere_is_idempotent_and_a_rerun_does_not_bring_the_customer_back(project, tmp_path):
    root = copy_project(project[0], tmp_path / "copy")
    data = root / "data"
    with bi(root) as con:
        # a buyer with tags and history, in an audience file
        [(customer_id,)] = con.execute("""
            select customer_id from customer_segments
            where frequency > 1 and customer_id in (select customer_id from customer_tags)
              and customer_id in (select customer_id from customer_identity_map where not is_merged)
            order by monetary desc limit 1""").fetchall()
    # an older release kept beside the current one
    current = (data / "publish" / "current").resolve()
    shutil.copytree(current, current.with_name("20000101T000000000000Z"))
    releases = sorted(p for p in (data / "publish" / "releases").iterdir())
    assert len(releases) >= 2 and all(release_hits(r, customer_id) for r in releases)
    assert warehouse_hits(data / "warehouse.duckdb", customer_id)

    erased = run_cli("forget", customer_id, cwd=root, env=DEFAULT_ENV)
    assert erased.returncode == 0, erased.stderr
    assert warehouse_hits(data / "warehouse.duckdb", customer_id) == {}
    for release in releases:
        assert release_hits(release, customer_id) == [], release
    with bi(root) as con:
        [(customer_hash, tables)] = con.execute("select customer_hash, tables from erasure_log").fetchall()
    assert customer_id not in customer_hash and re.fullmatch(r"[0-9a-f]{64}", customer_hash)
    assert "raw.customers" in tables and "raw.orders" in tables

    again = run_cli("forget", customer_id, cwd=root, env=DEFAULT_ENV)
    assert again.returncode == 0, again.stderr
    assert "erased before" in again.stdout
    with bi(root) as con:
        assert con.execute("select count(*) from erasure_log").fetchone()[0] == 1

    # the landing files still hold the customer: a rerun must not bring them back, nor a new export of the
    # same file (loaded again whole), and every row stays counted
    export = data / "landing" / "customers.csv"
    export.write_bytes(export.read_bytes() + b"C09999999,,,,,,,,,2026-01-01T00:00:00,,,,,,,,,,,,,\n")
    rerun = run_cli("run", cwd=root, env=DEFAULT_ENV)
    assert rerun.returncode == 0, rerun.stderr
    assert warehouse_hits(data / "warehouse.duckdb", customer_id) == {}
    assert release_hits((data / "publish" / "current").resolve(), customer_id) == []
    with bi(root) as con:
        assert con.execute("select count(*) from erasure_log").fetchone()[0] == 1
        assert con.execute("select count(*) from load_audit where rows_read != rows_accepted + rows_quarantined "
                           "+ rows_duplicate").fetchone()[0] == 0
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        erased_rows = con.execute("select file_hash, count(*), count(original_record) from quarantine "
                                  "where reason = 'erased_customer' and entity = 'customers' "
                                  "group by all").fetchall()
    # counted once per file version that held the customer, with only the reason kept
    assert len(erased_rows) == 2 and all(n == kept for _, n, kept in erased_rows)
