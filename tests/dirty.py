"""A dirty landing zone with a known number of every kind of bad row, and the answers it should give.

Everything planted is counted as it is written, so the tests compare the pipeline's quarantine,
audit and segments with these counts rather than with numbers copied from a run.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb

CUSTOMER_HEADER = ["customer_id", "name", "email", "phone", "gender", "city", "province", "country",
                   "signup_ts", "customer_type", "company_name", "religion", "民族", "updated_at"]
ORDER_HEADER = ["order_id", "customer_id", "order_ts", "status", "currency", "total_amount",
                "discount_amount", "updated_at"]
ITEM_HEADER = ["order_id", "line_no", "product_id", "quantity", "unit_price"]
AS_OF = "2026-06-30"


@dataclass
class Expected:
    quarantined: Counter = field(default_factory=Counter)  # (entity, reason) -> rows
    duplicates: Counter = field(default_factory=Counter)  # entity -> rows
    rows_read: Counter = field(default_factory=Counter)  # entity -> rows
    frequency: dict[str, int] = field(default_factory=dict)  # good customer -> completed orders
    monetary: dict[str, Decimal] = field(default_factory=dict)  # good customer -> net CNY
    merged: dict[str, str] = field(default_factory=dict)  # merged id -> canonical id


def _csv_text(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def build(landing: Path) -> Expected:
    landing.mkdir(parents=True, exist_ok=True)
    expected = Expected()
    good = [f"g{i:03d}" for i in range(1, 21)]

    def customer(cid, signup="2025-01-01T08:00:00", updated="2025-01-02T00:00:00", city="北京市", **over):
        row = {"customer_id": cid, "name": f"客户{cid}", "email": f"{cid}@Example.com ",
               "phone": "138 0013 " + cid[-3:].rjust(4, "0"), "gender": "女", "city": city,
               "province": "北京", "country": "中国", "signup_ts": signup, "customer_type": "",
               "company_name": "", "religion": "x", "民族": "汉族", "updated_at": updated, **over}
        return [row[c] for c in CUSTOMER_HEADER]

    customers = [customer(cid) for cid in good]
    customers[5][CUSTOMER_HEADER.index("company_name")] = "华兴, 科技\n有限公司"  # quoted comma and newline
    customers[6][CUSTOMER_HEADER.index("country")] = "PRC"
    customers[7][CUSTOMER_HEADER.index("gender")] = "Male"

    def plant(entity: str, reason: str, rows: list, row: list) -> None:
        rows.append(row)
        expected.quarantined[(entity, reason)] += 1

    plant("customers", "missing_customer_id", customers, customer(""))
    plant("customers", "missing_customer_id", customers, customer("  "))
    plant("customers", "unparseable_timestamp", customers, customer("bad1", signup="yesterday"))
    plant("customers", "unparseable_timestamp", customers, customer("bad2", signup="2025-02-30"))
    plant("customers", "future_timestamp", customers, customer("bad3", signup="2999-01-01"))
    # same key and updated_at as g001, other content: the later row wins, the earlier is quarantined
    customers.insert(0, customer("g001", city="天津"))
    expected.quarantined[("customers", "conflicting_duplicate")] += 1
    customers.append(customer("g002"))  # an exact copy
    customers.append(customer("g003", updated="2024-12-31T00:00:00", city="上海"))  # an older version
    expected.duplicates["customers"] += 2
    # the same person under a second id, same email: merged into g004, who signed up first
    customers.append(customer("g021", signup="2025-03-01T00:00:00", email="G004@example.com", phone=""))
    expected.merged["g021"] = "g004"

    text = _csv_text(CUSTOMER_HEADER, customers)
    text += "toolong,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o\n"
    expected.quarantined[("customers", "malformed_row")] += 1
    data = ("\ufeff" + text).encode() + b"badenc,\xff\xfe,,,,,,,2025-01-01,,,,,\n"
    expected.quarantined[("customers", "invalid_encoding")] += 1
    (landing / "customers_dirty.csv").write_bytes(data)
    expected.rows_read["customers"] = len(customers) + 2

    orders: list[list[object]] = []
    items: list[list[object]] = []
    for n, cid in enumerate(good):
        completed = n % 4 + 1
        for k in range(completed):
            oid = f"o{cid}{k}"
            total, discount = Decimal(100 + 10 * n), Decimal(k)
            orders.append([oid, cid, f"2026-0{k % 5 + 1}-1{k}T10:00:00+08:00", "Completed" if k else "completed",
                           "CNY", str(total), str(discount), ""])
            items.append([oid, 1, "p1", 1, str(total)])
        orders.append([f"o{cid}c", cid, "2026-05-01 12:00:00", "CANCELLED", "CNY", "50", "", ""])
        expected.frequency[cid] = completed
        expected.monetary[cid] = sum(Decimal(100 + 10 * n) - k for k in range(completed))
    # g021's order counts for g004, the person it is merged into
    orders.append(["og021", "g021", "2026-06-01T00:00:00", "completed", "CNY", "40", "", ""])
    expected.frequency["g004"] += 1
    expected.monetary["g004"] += 40

    def bad_order(reason, oid="ob", cid="g001", ts="2026-01-01T00:00:00", status="completed", cur="CNY",
                  total="10", discount=""):
        plant("orders", reason, orders, [oid, cid, ts, status, cur, total, discount, ""])

    for i in range(2):
        bad_order("unparseable_timestamp", oid=f"ts{i}", ts=["2026-13-01", "soon"][i])
        bad_order("unparseable_number", oid=f"num{i}", total=["12,5", "abc"][i])
        bad_order("negative_amount", oid=f"neg{i}", total="-3")
        bad_order("unknown_currency", oid=f"cur{i}", cur=["ABCD", "ZZZ"][i])
        bad_order("orphan_order", oid=f"orph{i}", cid="nobody")
    bad_order("missing_customer_id", oid="nocust", cid="")
    bad_order("missing_order_id", oid="")
    bad_order("invalid_status", oid="stat", status="shipped")
    bad_order("future_timestamp", oid="fut", ts="2999-01-01T00:00:00")
    bad_order("discount_exceeds_total", oid="disc", total="5", discount="6")
    orders.append(orders[0].copy())  # exact copy of a good order
    expected.duplicates["orders"] += 1
    conflicting = orders[1].copy()
    conflicting[5] = "999"
    orders.insert(0, conflicting)  # same key and updated_at, other amount: the later row wins
    expected.quarantined[("orders", "conflicting_duplicate")] += 1
    text = _csv_text(ORDER_HEADER, orders) + "short,row\n"
    expected.quarantined[("orders", "malformed_row")] += 1
    (landing / "orders_dirty.csv").write_text(text, encoding="utf-8")
    expected.rows_read["orders"] = len(orders) + 1

    for i in range(2):
        plant("order_items", "orphan_item", items, [f"ghost{i}", 1, "p1", 1, "10"])
    plant("order_items", "non_positive_quantity", items, ["og0010", 2, "p1", 0, "10"])
    (landing / "order_items.csv").write_text(_csv_text(ITEM_HEADER, items), encoding="utf-8")
    expected.rows_read["order_items"] = len(items)

    duckdb.execute(
        f"copy (select 'p1' as product_id, '茶叶' as product_name, 'Food' as category) "
        f"to '{landing / 'products.parquet'}' (format parquet)")
    expected.rows_read["products"] = 1
    return expected
