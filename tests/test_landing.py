"""Landing files into raw tables: text columns, rejects kept, protected columns dropped, reloads skipped."""

import duckdb
import pytest

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
