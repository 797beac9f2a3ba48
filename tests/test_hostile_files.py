"""Landing files nobody on the team wrote: generated with hypothesis, each either loads with every record
accounted for, or fails with one line naming the file. Never a traceback, never a silent loss."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from orchestration.landing import UnreadableFileError, load_file

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# any text a field may hold: quotes, commas, CR and LF, BOMs, CJK, controls, zero-width characters
FIELD = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
HEADER_NAME = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=12)


@st.composite
def csv_files(draw) -> tuple[bytes, list[str]]:
    """An orders export: the required columns in any order among hostile extra (maybe repeated) names,
    rows of any width and content, each marked by its order_id, in UTF-8 (BOM or not) or GBK, mixed line ends."""
    extras = draw(st.lists(HEADER_NAME, max_size=4))
    header = draw(st.permutations(["order_id", "customer_id", "order_ts", *extras]))
    count = draw(st.integers(min_value=0, max_value=12))
    markers = [f"m{n:03d}x" for n in range(count)]
    lines = []
    for marker in markers:
        fields = draw(st.lists(FIELD, min_size=len(header) - 1, max_size=len(header) - 1))
        width = draw(st.sampled_from([len(header), len(header), len(header), len(header) - 1, len(header) + 1]))
        fields = (fields + [""] * 2)[: max(width - 1, 0)]
        fields.insert(min(header.index("order_id"), len(fields)), marker)
        lines.append(fields)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    text = out.getvalue()
    for fields in lines:
        out = io.StringIO()
        csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerow(fields)
        text += out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
    return text.encode(encoding, errors="replace"), markers


def load(content: bytes, name: str):
    """Load one file into a fresh warehouse; returns the load (or the refusal) and every landed text."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        con = duckdb.connect()
        try:
            result = load_file(con, "orders", path, "key", Path(folder) / "spool")
        except UnreadableFileError as error:
            return error, None
        landed = con.execute(
            "select count(*), list(order_id) from raw.orders where _source_file = ?", [name]).fetchone()
        malformed = con.execute(
            "select count(*), list(coalesce(original_record, '')) from raw.malformed_rows where source_file = ?",
            [name]).fetchone()
        con.close()
        return result, (landed, malformed)


def assert_refusal_names_the_file(error: Exception, name: str) -> None:
    message = str(error)
    assert name in message and "\n" not in message and "Traceback" not in message, message


@BOUNDED
@given(csv_files())
def test_generated_csv_loads_every_record_or_is_refused_in_one_line(file):
    content, markers = file
    result, landed = load(content, "orders_hostile.csv")
    if isinstance(result, UnreadableFileError):
        event("refused")
        assert_refusal_names_the_file(result, "orders_hostile.csv")
        return
    (rows, order_ids), (malformed, records) = landed
    event("loaded with malformed rows" if malformed else "loaded whole")
    assert result.rows_read == rows + malformed  # every row read is landed or kept as malformed
    seen = " ".join(str(v) for v in [*(order_ids or []), *(records or [])])
    lost = [m for m in markers if m not in seen]
    assert lost == [], f"records lost without a trace: {lost}"


@BOUNDED
@given(st.binary(max_size=2000), st.sampled_from(["orders_x.csv", "orders_x.parquet"]))
def test_random_bytes_load_or_are_refused_in_one_line(content, name):
    result, landed = load(content, name)
    if isinstance(result, UnreadableFileError):
        assert_refusal_names_the_file(result, name)
    else:
        (rows, _), (malformed, _) = landed
        assert result.rows_read == rows + malformed


def parquet_bytes(rows: int) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.parquet"
        duckdb.execute(
            f"copy (select 'o' || i as order_id, 'c' || i as customer_id, timestamp '2026-01-01' as order_ts, "
            f"i * 1.5 as total_amount from range({rows}) t(i)) to '{path}' (format parquet)")
        return path.read_bytes()


WHOLE_PARQUET = parquet_bytes(500)


@BOUNDED
@given(st.integers(min_value=0, max_value=len(WHOLE_PARQUET) - 1))
def test_truncated_parquet_is_refused_in_one_line_naming_the_file(cut):
    result, _ = load(WHOLE_PARQUET[:cut], "orders_cut.parquet")
    assert isinstance(result, UnreadableFileError), result
    assert_refusal_names_the_file(result, "orders_cut.parquet")


def test_whole_parquet_with_wrong_types_lands_as_text():
    result, ((rows, _), (malformed, _)) = load(WHOLE_PARQUET, "orders_whole.parquet")
    assert (result.rows_read, rows, malformed) == (500, 500, 0)


def test_a_huge_field_loads():
    content = b"order_id,customer_id,order_ts,comment\no1,c1,2026-01-01," + b"x" * 5_000_000 + b"\n"
    result, ((rows, _), (malformed, _)) = load(content, "orders_huge.csv")
    assert result.rows_read == rows + malformed == 1



def test_headers_repeated_after_normalising_are_refused_naming_the_file():
    for header in ("order_id,customer_id,order_ts,order_id", "order_id,customer_id,order_ts,Order ID",
                   "order_id,customer_id,order_ts,ｏｒｄｅｒ＿ｉｄ", "order_id,customer_id,order_ts,"):
        result, _ = load(f"{header}\no1,c1,2026-01-01,x\n".encode(), "orders_dup.csv")
        assert isinstance(result, UnreadableFileError), header
        assert_refusal_names_the_file(result, "orders_dup.csv")
        assert "blank or repeated column names" in str(result)
