"""Landing files into raw tables: text columns, rejects kept, protected columns dropped, reloads skipped."""

import duckdb
import pytest

from orchestration.contract import normalise_column
from orchestration.landing import UnreadableFileError, load_entity, load_file
from tests.conftest import write_csv


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield con
    con.close()


def test_rows_are_landed_as_text_with_their_origin(tmp_path, con):
    landing = tmp_path / "landing"
    write_csv(landing / "orders_1.csv", ["order_id", "customer_id", "order_ts", "total_amount", "note"],
              [["o1", "c1", "2026-01-01", "12.50", "a, quoted \"note\""],
               ["o2", "c2", "2026-01-01", "7", "多行\n备注"]])
    [load] = load_entity(con, landing, "orders")
    assert (load.rows_read, load.rows_malformed) == (2, 0)
    rows = con.execute(
        "select order_id, total_amount, note, _source_file, _row_number from raw.orders order by 1").fetchall()
    assert rows == [("o1", "12.50", 'a, quoted "note"', "orders_1.csv", 1),
                    ("o2", "7", "多行\n备注", "orders_1.csv", 2)]
    types = {name: kind for name, kind, *_ in con.execute("describe raw.orders").fetchall()}
    assert types["total_amount"] == "VARCHAR"
    assert "note" in types


def test_a_file_already_loaded_is_skipped_and_a_changed_one_is_loaded(tmp_path, con):
    landing = tmp_path / "landing"
    path = write_csv(landing / "customers.csv", ["customer_id", "signup_ts"], [["c1", "2026-01-01"]])
    assert not load_entity(con, landing, "customers")[0].skipped
    assert load_entity(con, landing, "customers")[0].skipped
    write_csv(path, ["customer_id", "signup_ts"], [["c1", "2026-01-01"], ["c2", "2026-01-02"]])
    assert not load_entity(con, landing, "customers")[0].skipped
    assert con.execute("select count(*) from raw.load_files").fetchone()[0] == 2


def test_protected_columns_are_dropped_at_load(tmp_path, con):
    landing = tmp_path / "landing"
    write_csv(landing / "customers.csv", ["customer_id", "signup_ts", "Religion", "民族", "ethnicity", "city"],
              [["c1", "2026-01-01", "x", "汉族", "y", "北京"]])
    [load] = load_entity(con, landing, "customers")
    assert sorted(load.dropped_columns) == sorted(["religion", "民族", "ethnicity"])
    columns = {row[0] for row in con.execute("describe raw.customers").fetchall()}
    assert not columns & {"religion", "民族", "ethnicity"}
    assert con.execute("select city from raw.customers").fetchall() == [("北京",)]


def test_malformed_lines_are_kept_with_line_and_reason(tmp_path, con):
    path = tmp_path / "orders_bad.csv"
    path.write_bytes(
        "\ufefforder_id,customer_id,order_ts\n"
        "o1,c1,2026-01-01\n"
        "o2,c2\n"
        "o3,c3,2026-01-01,extra\n".encode()
        + b"o4,\xff\xfe,2026-01-01\n"
        + b"o5,c5,2026-01-01\n")
    load = load_file(con, "orders", path)
    assert (load.rows_read, load.rows_malformed) == (5, 3)
    assert con.execute("select order_id from raw.orders order by 1").fetchall() == [("o1",), ("o5",)]
    rejects = con.execute("select line, reason from raw.malformed_rows order by line").fetchall()
    assert rejects == [(3, "malformed_row"), (4, "malformed_row"), (5, "invalid_encoding")]


def test_parquet_columns_are_landed_as_text(tmp_path, con):
    path = tmp_path / "orders_p.parquet"
    duckdb.execute(f"copy (select 'o1' as order_id, 'c1' as customer_id, timestamp '2026-01-01 10:00:00' as order_ts, "
                   f"12.5 as total_amount) to '{path}' (format parquet)")
    load_file(con, "orders", path)
    assert con.execute("select order_ts, total_amount from raw.orders").fetchall() == [("2026-01-01 10:00:00", "12.5")]


def test_a_file_without_its_key_columns_fails_naming_them(tmp_path, con):
    path = write_csv(tmp_path / "orders_x.csv", ["order_no", "customer_id", "order_ts"], [["o1", "c1", "2026-01-01"]])
    with pytest.raises(UnreadableFileError, match="orders_x.csv: no column order_id"):
        load_file(con, "orders", path)


def test_nested_parquet_columns_are_refused(tmp_path, con):
    path = tmp_path / "orders_nested.parquet"
    duckdb.execute(f"copy (select 'o1' as order_id, 'c1' as customer_id, '2026-01-01' as order_ts, "
                   f"[1, 2] as amounts) to '{path}' (format parquet)")
    with pytest.raises(UnreadableFileError, match="nested columns"):
        load_file(con, "orders", path)


@pytest.mark.parametrize(
    ("name", "content"),
    [("orders_trunc.parquet", b"PAR1\x00\x01garbage"), ("orders_empty.csv", b"")],
)
def test_unreadable_file_fails_naming_the_file_and_loads_nothing(tmp_path, con, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=name):
        load_file(con, "orders", path)
    assert con.execute("select count(*) from raw.load_files").fetchone()[0] == 0


def test_mixed_line_endings_load_and_bad_rows_are_quarantined(tmp_path, con):
    # rows exported with CRLF, then rows appended by another tool with LF, one field holding a CRLF
    path = tmp_path / "orders_mixed.csv"
    path.write_bytes(
        b"order_id,customer_id,order_ts\r\n"
        b"o1,c1,2026-01-01\r\n"
        b"o2,c2,2026-01-02\n"
        b"o3,c3\r\n"
        b"o4,c4,2026-01-04,extra\n"
        b'o5,"c5\r\nsecond line",2026-01-05\r\n'
        b"o6,c6,2026-01-06\n")
    load = load_file(con, "orders", path)
    assert (load.rows_read, load.rows_malformed) == (6, 2)
    assert con.execute("select order_id from raw.orders order by 1").fetchall() == [
        ("o1",), ("o2",), ("o5",), ("o6",)]
    assert con.execute("select line, reason from raw.malformed_rows order by line").fetchall() == [
        (4, "malformed_row"), (5, "malformed_row")]
    assert con.execute("select _source_file from raw.orders limit 1").fetchone() == ("orders_mixed.csv",)


HOSTILE_HEADERS = [
    'x" varchar); copy raw.customers to \'/tmp/pwned.csv\'; --',
    "y'); copy raw.customers to '/tmp/pwned2.csv'; --",
    'a"b',
    "commit; drop table raw.load_files",
]


def test_hostile_headers_stay_column_names_and_run_no_sql(tmp_path, con):
    landing = tmp_path / "landing"
    write_csv(landing / "customers.csv", ["customer_id", "signup_ts", *HOSTILE_HEADERS],
              [["c1", "2026-01-01", "1", "2", "3", "4"]])
    [load] = load_entity(con, landing, "customers")
    assert load.rows_read == 1
    columns = {row[0] for row in con.execute("describe raw.customers").fetchall()}
    assert {normalise_column(h) for h in HOSTILE_HEADERS} <= columns
    assert con.execute("select count(*) from raw.load_files").fetchone()[0] == 1
    assert not (tmp_path / "pwned.csv").exists()
    from pathlib import Path
    assert not Path("/tmp/pwned.csv").exists() and not Path("/tmp/pwned2.csv").exists()


def test_a_path_with_a_quote_loads(tmp_path, con):
    landing = tmp_path / "it's; here"
    path = write_csv(landing / "orders_q.csv", ["order_id", "customer_id", "order_ts"], [["o1", "c1", "2026-01-01"]])
    assert load_file(con, "orders", path).rows_read == 1


def test_built_sql_with_two_statements_is_refused(con):
    from orchestration.db import SqlShapeError, execute_one

    with pytest.raises(SqlShapeError):
        execute_one(con, "select 1; select 2")


@pytest.mark.parametrize("header", [
    "RACE", "ＲＡＣＥ", "ra\u200bce", "race_ethnicity", "religion_code", "民族名称", "Sexual-Orientation",
    "SexualOrientation", "political affiliation", "\ufeff宗教", "ethnic\u00a0group",
])
def test_protected_columns_are_matched_robustly_and_never_reach_raw(tmp_path, con, header):
    landing = tmp_path / "landing"
    path = landing / "customers.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        f"customer_id,signup_ts,{header},city\n"
        "c1,2026-01-01,SECRET-A,北京\n"
        "c2,2026-01-01,SECRET-B,上海,extra\n"
        "c3,2026-01-01,SECRET-C\n", encoding="utf-8")
    [load] = load_entity(con, landing, "customers")
    assert load.dropped_columns and load.rows_read == 3
    dump = str(con.execute("select * from raw.customers").fetchall()) + str(
        con.execute("select * from raw.malformed_rows").fetchall())
    assert "SECRET" not in dump
    assert con.execute("select count(*) from raw.malformed_rows").fetchone()[0] == 2


def test_malformed_lines_keep_their_values_in_raw_and_a_pseudonymised_copy(tmp_path, con):
    path = tmp_path / "customers_bad.csv"
    path.write_text("customer_id,signup_ts,email,phone\n"
                    "c1,2026-01-01,li.lei@example.com,+8613812345678,extra\n"
                    "c2,wang@example.cn 13900001111\n", encoding="utf-8")
    load_file(con, "customers", path, pseudonym_key="k")
    rows = con.execute("select original_record, redacted_record from raw.malformed_rows order by line").fetchall()
    assert "li.lei@example.com" in rows[0][0]
    redacted = " ".join(r[1] for r in rows)
    assert "@" not in redacted and "13812345678" not in redacted and "13900001111" not in redacted
    assert "c1" in rows[0][1] and "2026-01-01" in rows[0][1]


def test_an_empty_optional_file_is_recorded_and_an_empty_required_one_fails(tmp_path, con):
    (tmp_path / "feedback_empty.csv").write_bytes(b"")
    load = load_file(con, "feedback", tmp_path / "feedback_empty.csv")
    assert load.empty and load.rows_read == 0
    assert con.execute("select entity, rows_read from raw.load_files").fetchall() == [("feedback", 0)]
    (tmp_path / "customers_empty.csv").write_bytes(b"")
    with pytest.raises(UnreadableFileError, match="customers_empty.csv: empty file"):
        load_file(con, "customers", tmp_path / "customers_empty.csv")


def test_a_file_still_being_written_is_refused_whole_and_loaded_later(tmp_path, con, monkeypatch):
    import orchestration.landing as landing

    path = write_csv(tmp_path / "orders_1.csv", ["order_id", "customer_id", "order_ts"], [["o1", "c1", "2026-01-01"]])
    real_hash = landing.file_hash

    def hash_then_append(target):
        digest = real_hash(target)
        with target.open("a", encoding="utf-8") as handle:  # another tool is still writing
            handle.write("o2,c1,2026-01-02\n")
        return digest

    monkeypatch.setattr(landing, "file_hash", hash_then_append)
    with pytest.raises(UnreadableFileError, match="orders_1.csv: it changed while it was being loaded"):
        load_file(con, "orders", path)
    assert con.execute("select count(*) from raw.orders").fetchone()[0] == 0
    assert con.execute("select count(*) from raw.load_files").fetchone()[0] == 0
    monkeypatch.setattr(landing, "file_hash", real_hash)
    assert load_file(con, "orders", path).rows_read == 2


def test_rows_of_an_erased_customer_are_withheld_at_load_and_counted_once(tmp_path, con):
    from orchestration.landing import ensure_raw_schema
    from orchestration.privacy import keyed_hash

    ensure_raw_schema(con)
    con.execute("insert into raw.erased_keys values ('customer_id', ?)", [keyed_hash("k", "gone")])
    path = write_csv(tmp_path / "orders_1.csv", ["order_id", "customer_id", "order_ts"],
                     [["o1", "gone", "2026-01-01"], ["o2", "kept", "2026-01-01"], ["o3", "gone", "2026-01-02"]])
    load = load_file(con, "orders", path, "k")
    assert (load.rows_read, load.rows_malformed) == (3, 2)
    assert con.execute("select customer_id from raw.orders").fetchall() == [("kept",)]
    withheld = con.execute("select reason, original_record, error_message from raw.malformed_rows").fetchall()
    assert [(r, o) for r, o, _ in withheld] == [("erased_customer", None)] * 2
    assert not any("gone" in message for *_, message in withheld)
