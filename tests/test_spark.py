"""The same dbt models on Spark and on DuckDB, from the same landing zone, compared row for row.

Marked `spark`: skipped where Java or pyspark is missing (./scripts/test installs both). The landing zone is the
demo's plus the dirty one of tests/dirty.py, loaded once by the loader; each engine then builds the models from
it. Spark's tables are read back from their Parquet files in its warehouse folder.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
from pathlib import Path

import duckdb
import pytest

from orchestration.erasure import forget
from orchestration.settings import Settings
from orchestration.spark import build_models, hand_over, load_raw, missing_requirement
from orchestration.warehouse import parquet_of
from tests import dirty
from tests.conftest import write_csv

pytestmark = [pytest.mark.spark,
              pytest.mark.skipif(missing_requirement() is not None, reason=missing_requirement() or "")]

REPO = Path(__file__).resolve().parent.parent


def every_model() -> list[tuple[str, str]]:
    """(schema, name) of every dbt model of the project (the manifest conftest.py parses before collection): a new
    model is compared without being listed anywhere."""
    nodes = json.loads((REPO / "target" / "manifest.json").read_text(encoding="utf-8"))["nodes"].values()
    return sorted((node["schema"], node["name"]) for node in nodes if node["resource_type"] == "model")


def mutated(rng: random.Random, valid: list[str], count: int) -> list[str]:
    """Texts near the shapes the contract accepts: valid ones with a character inserted, dropped or replaced by one
    the engines read differently (separators, signs, exponents, odd digits and spaces)."""
    alphabet = list("0123456789-/:T .+Ze,_x") + ["１", "\t", "\x0b", "\u3000", "\u00a0", "٣"]
    texts = []
    for _ in range(count):
        text = list(rng.choice(valid))
        for _ in range(rng.randint(0, 2)):
            at = rng.randrange(len(text) + 1)
            action = rng.choice(("insert", "drop", "replace"))
            if action == "insert" or not text:
                text.insert(at, rng.choice(alphabet))
            elif action == "drop":
                del text[min(at, len(text) - 1)]
            else:
                text[min(at, len(text) - 1)] = rng.choice(alphabet)
        texts.append("".join(text))
    return texts


def write_fuzzed_orders(landing: Path, customer: str) -> None:
    """Orders whose timestamps and amounts are near-valid texts: both engines must parse or refuse each alike."""
    rng = random.Random(13)
    stamps = mutated(rng, ["2026-03-03T04:11:41", "2026-03-03 04:11:41+08:00", "2026-03-03", "2026-03-03T04:11Z",
                           "2026-03-03 04:11:41.123456789-05"], 400)
    amounts = mutated(rng, ["245.07", "1e3", "-3.5", ".5", "12", "+7.", "1.5E-2"], 400)
    write_csv(landing / "orders_fuzzed.csv",
              ["order_id", "customer_id", "order_ts", "status", "currency", "total_amount", "discount_amount",
               "channel", "updated_at"],
              [[f"F{i:05d}", customer, stamp, "completed", "CNY", amount, rng.choice(["", "0", amounts[-i]]),
                "store", rng.choice(["", stamps[-i]])]
               for i, (stamp, amount) in enumerate(zip(stamps, amounts, strict=True))])


def second_landing(landing: Path, held: Path) -> None:
    """What lands after the first build: the held-back files, and a changed version of an earlier file (one order
    refunded, so that its first version's rows turn duplicate)."""
    for path in held.iterdir():
        path.rename(landing / path.name)
    orders = landing / "orders_2026.csv"
    with orders.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    changed = next(row for row in rows[1:] if row[3] == "completed")
    changed[3] = "refunded"
    write_csv(orders, rows[0], rows[1:])


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> dict:
    """Both engines built from one landing zone. DuckDB builds once, from everything landed. Spark builds twice:
    its incremental models from the demo's files, then every model, incrementally, after the rest lands (the dirty
    files, fuzzed orders, overrides, a changed file) and a customer is erased. So each comparison also holds
    Spark's incremental run to a full build."""
    from orchestration.demo import DemoSpec, generate

    root = tmp_path_factory.mktemp("engines")
    landing, held = root / "landing", root / "held"
    generate(landing, DemoSpec(customers=300, orders=2500))
    dirty.build(root / "dirty")
    held.mkdir()
    for path in (root / "dirty").iterdir():  # under names of their own beside the demo's files
        path.rename(held / f"{path.stem.removesuffix('_dirty')}_dirty{path.suffix}")
    customers = csv.DictReader((landing / "customers.csv").open(encoding="utf-8"))
    customer, erased = next(customers)["customer_id"], next(customers)["customer_id"]
    write_csv(held / "segment_overrides.csv",
              ["customer_id", "dimension", "segment", "reason", "requested_by", "valid_from", "expires_at"],
              [[customer, "value_tier", "high", "appeal upheld", "agent 7", "2026-01-01", ""],
               [customer, "", "high", "no dimension", "agent 7", "2026-01-01", ""],
               [customer, "value_tier", "mid", "bad date", "agent 7", "2026/01/01", ""],
               [customer, "value_tier", "mid", "ends first", "agent 7", "2026-03-01", "2026-02-01"]])
    write_fuzzed_orders(held, customer)
    # a label with a quote and a backslash: Spark reads both differently from DuckDB in a literal
    rules_file = root / "segments.yml"
    rules_file.write_text((REPO / "segments.yml").read_text(encoding="utf-8").replace(
        "label_en: Prospect", "label_en: \"Prospect's \\\\ first\"", 1), encoding="utf-8")
    env = {**os.environ, "SEGMENTS_RULES_FILE": str(rules_file), "SEGMENTS_ENGINE": "spark",
           "SEGMENTS_LANDING_DIR": str(landing), "SEGMENTS_WAREHOUSE": str(root / "warehouse.duckdb"),
           "SEGMENTS_PUBLISH_DIR": str(root / "publish"), "SEGMENTS_SPARK_DIR": str(root / "spark"),
           "SEGMENTS_PSEUDONYM_KEY": "engine-comparison-key", "SEGMENTS_AS_OF": dirty.AS_OF}
    load_raw(env)
    hand_over(env)
    # the first build needs only the incremental models and what they read (the second builds every model)
    build_models(env, "spark_local", root / "target-spark_local",
                 select=["+int_segment_days", "+int_segment_overrides_triaged"])
    second_landing(landing, held)
    load_raw(env)
    # erased between Spark's builds (from Spark's files too) and before DuckDB's: erasure_log has a row to compare
    forget(Settings.from_mapping(env), [erased])
    hand_over(env)
    for target in ("spark_local", "local"):
        build_models(env, target, root / f"target-{target}")
    return {"root": root, "env": env, "erased": erased}


def spark_table(root: Path, schema: str, table: str) -> str:
    return parquet_of(root / "spark" / "warehouse" / f"{schema}.db" / table)


def comparable(rows: list[tuple], floats: list[int]) -> list[tuple]:
    """Rows in one order: by their exact columns, then their floats to 9 significant digits."""
    def key(row: tuple) -> tuple:
        exact = tuple((value is None, str(value)) for i, value in enumerate(row) if i not in floats)
        rounded = tuple((row[i] is None, float(f"{row[i]:.9g}") if row[i] is not None else 0.0) for i in floats)
        return exact + rounded
    return sorted(rows, key=key)


# Outputs of the CLV fit rounded for publication, and their rounding step. Both engines fit the same model on
# summaries whose sums ran in another order, equal to 1e-6 before rounding (customer_clv is compared so), so a value
# that lies on a rounding boundary may round one step apart.
FITTED_AND_ROUNDED = {"predicted_clv_12m": 0.01, "p_alive": 1e-4, "expected_purchases_90d": 1e-4,
                      "expected_purchases_365d": 1e-4}


def same_column(name: str, a, b) -> bool:
    if name in FITTED_AND_ROUNDED and a is not None and b is not None:
        return abs(float(a) - float(b)) <= FITTED_AND_ROUNDED[name] * (1 + 1e-9)
    return same(a, b)


def same(a, b) -> bool:
    if isinstance(a, str) and isinstance(b, str) and a.startswith("{") and b.startswith("{") and a != b:
        # JSON text: the same document (the engines write 0.0005 and 5.0E-4 for the same double)
        return same(json.loads(a), json.loads(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[key], b[key]) for key in a)
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) and type(a) is not type(b):
        return same(float(a), float(b))
    if isinstance(a, float) and isinstance(b, float):
        # doubles summed in another order differ in their last bits, and a model fitted on them a little more
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.mark.parametrize("schema,table", every_model())
def test_spark_builds_the_same_rows_as_duckdb(engines, schema, table):
    root = engines["root"]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        con.execute("set timezone = 'UTC'")
        described = con.execute(
            "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position", [schema, table]).fetchall()
        spark_described = con.execute(f"describe select * from {spark_table(root, schema, table)}").fetchall()
        # a keyed incremental table's partition column on Spark (macros/incremental.sql, keyed_incremental)
        assert [row[0] for row in spark_described if row[0] != "_bucket"] == [name for name, _ in described]
        # _batch stamps the load of the run that last wrote a row: Spark's incremental run left untouched buckets'
        # rows with the first build's stamp, DuckDB's single build stamped every row (tests/test_incremental.py
        # leaves it out too)
        described = [(name, kind) for name, kind in described if name != "_batch"]
        columns = [name for name, _ in described]
        floats = [i for i, (_, kind) in enumerate(described) if kind in ("DOUBLE", "FLOAT")]
        listed = ", ".join(f'"{column}"' for column in columns)
        duck = con.execute(f"select {listed} from {schema}.{table}").fetchall()
        spark = con.execute(f"select {listed} from {spark_table(root, schema, table)}").fetchall()
    assert duck, "compare a table that has rows"
    assert len(duck) == len(spark), f"{table}: {len(duck)} rows on DuckDB, {len(spark)} on Spark"
    differing = [(d, s) for d, s in zip(comparable(duck, floats), comparable(spark, floats), strict=True)
                 if not all(same_column(name, a, b) for name, a, b in zip(columns, d, s, strict=True))]
    if differing:
        duck_row, spark_row = differing[0]
        columns_differing = [f"{name}: {a!r} on DuckDB, {b!r} on Spark"
                             for name, a, b in zip(columns, duck_row, spark_row, strict=True)
                             if not same_column(name, a, b)]
        pytest.fail(f"{table}: {len(differing)} rows differ, e.g. {duck_row[0]!r}: {'; '.join(columns_differing)}")


def test_a_label_with_a_quote_and_a_backslash_reaches_both_engines_whole(engines):
    """The rules' texts reach SQL as literals both engines read alike (macros/engine.sql, sql_string)."""
    root = engines["root"]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        labels = {con.execute(f"select label_en from {relation} where segment = 'prospect'").fetchall()[0][0]
                  for relation in ("intermediate.int_segment_rules",
                                   spark_table(root, "intermediate", "int_segment_rules"))}
    assert labels == {"Prospect's \\ first"}


def test_an_erased_customer_is_in_neither_engine(engines):
    root, erased = engines["root"], engines["erased"]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        for relation in ("marts.customer_segments", spark_table(root, "marts", "customer_segments"),
                         "marts.customer_identity_map", spark_table(root, "marts", "customer_identity_map")):
            assert con.execute(f"select count(*) from {relation} where customer_id = ?", [erased]).fetchall() == [(0,)]
        assert con.execute(f"select count(*) from {spark_table(root, 'marts', 'erasure_log')}").fetchall() == [(1,)]


def test_sparks_keyed_tables_are_overwritten_by_bucket(engines):
    """The incremental strategy on Spark: keyed tables are partitioned by the key's bucket (insert_overwrite)."""
    warehouse = engines["root"] / "spark" / "warehouse" / "intermediate.db"
    for table in ("int_orders_triaged", "int_customers_triaged", "int_customer_orders_daily"):
        assert len(list((warehouse / table).glob("_bucket=*"))) > 1, table
    assert list((warehouse / "int_segment_days").glob("snapshot_date=*"))
