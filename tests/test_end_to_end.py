"""End to end as a user runs it: `segments demo`, then `segments run`, on the default settings."""

import csv
import io
import json
import os
import subprocess
import sys
import time

import duckdb
import pandas
import pytest
import yaml

from orchestration.publish import PUBLISHED_TABLES, pii_columns
from orchestration.settings import DEFAULTS
from tests.conftest import REPO, SHOTS, bi, copy_project, open_page, run_cli, snapshot, write_csv
from tests.dirty import ORDER_HEADER

VOCABULARIES = {
    "value_tier": {"high", "mid", "low"},
    "frequency_group": {"high", "low", "one_time"},
    "lifecycle_stage": {"prospect", "new", "active", "silent", "churned"},
    "business_segment": {"high_value", "potential", "new", "silent", "churned", "prospect", "key_account"},
}
CONTRACT_COLUMNS = {
    "customer_segments": {"customer_id", "as_of_date", "recency_days", "frequency", "monetary",
                          "avg_order_value", "r_score", "f_score", "m_score", "rfm_segment",
                          "value_tier", "frequency_group", "lifecycle_stage", "business_segment", "clv"},
    "segment_summary": {"dimension", "segment", "customers", "revenue", "share_of_customers",
                        "share_of_revenue"},
    "customer_tags": {"customer_id", "tag", "tag_type", "valid_from", "valid_to"},
    "segment_history": {"customer_id", "dimension", "segment", "valid_from", "valid_to"},
    "load_audit": {"entity", "source_file", "rows_read", "rows_accepted", "rows_quarantined",
                   "rows_duplicate", "loaded_at"},
}


def test_demo_runs_and_reports(project):
    root, result = project
    assert result.returncode == 0, result.stderr
    assert "as of 2026-10-30" in result.stdout
    # live progress, one line per step as it finishes, in phase order
    lines = result.stdout.splitlines()
    done = [next(i for i, line in enumerate(lines) if line.split()[:2] == [phase, "done"])
            for phase in ("load", "transform", "publish")]
    assert done == sorted(done)
    assert any(line.split()[:2] == ["checks", "done"] for line in lines)
    assert (root / "data" / "landing" / "customers.csv").exists()
    # a business segment under min_segment_size (20) is a warning on stderr, not a failure
    with bi(root) as con:
        small = con.execute("select segment, customers from segment_summary where dimension = 'business_segment' "
                            "and customers < 20 order by segment").fetchall()
    warned = [line for line in result.stderr.splitlines() if "segment_sizes_stable" in line]
    assert [(segment, n) for segment, n in small
            if any(f"business_segment/{segment}: {n} customers, under min_segment_size 20" in line
                   for line in warned)] == small
    assert bool(warned) == bool(small)


def test_every_input_customer_is_segmented_once(project):
    root, _ = project
    landing = root / "data" / "landing"
    with bi(root) as con:
        expected = duckdb.execute(
            f"select count(distinct customer_id) from read_csv('{landing}/customers.csv', all_varchar=true)"
        ).fetchone()[0]
        assert con.execute("select count(*), count(distinct customer_id) from customer_segments").fetchone() == (
            expected, expected)


def test_codes_scores_and_shares_hold(project):
    root, _ = project
    with bi(root) as con:
        for column, vocabulary in VOCABULARIES.items():
            values = {v for (v,) in con.execute(f"select distinct {column} from customer_segments").fetchall()}
            assert values <= vocabulary, column
            assert len(values) >= 3, column
        for score in ("r_score", "f_score", "m_score"):
            low, high, nulls = con.execute(
                f"select min({score}), max({score}), count(*) filter (where {score} is null) "
                "from customer_segments").fetchone()
            assert (low, high, nulls) == (1, 5, 0), score
        sums = con.execute(
            "select dimension, sum(share_of_customers), sum(share_of_revenue) from segment_summary group by 1"
        ).fetchall()
        assert len(sums) >= 4
        for dimension, customers_share, revenue_share in sums:
            assert customers_share == pytest.approx(1), dimension
            assert revenue_share == pytest.approx(1), dimension


def test_published_tables_carry_contract_columns_and_no_pii(project):
    root, _ = project
    current = root / "data" / "publish" / "current"
    with bi(root) as con:
        for table in PUBLISHED_TABLES:
            columns = [row[0] for row in con.execute(f"describe {table}").fetchall()]
            assert CONTRACT_COLUMNS.get(table, set()) <= set(columns), table
            assert pii_columns(columns) == [], table
            parquet_columns = [row[0] for row in duckdb.execute(
                f"describe select * from read_parquet('{current / (table + '.parquet')}')").fetchall()]
            assert parquet_columns == columns
        values = " ".join(str(v) for row in con.execute("select * from customer_segments limit 500").fetchall()
                          for v in row)
    assert "@example.com" not in values and "+86" not in values


def test_every_row_read_is_accounted_for(project):
    root, _ = project
    with bi(root) as con:
        rows = con.execute(
            "select entity, sum(rows_read), sum(rows_accepted), sum(rows_quarantined), sum(rows_duplicate) "
            "from load_audit group by entity").fetchall()
    assert {r[0] for r in rows} == {"customers", "orders", "order_items", "products", "marketing_spend",
                                    "web_events", "feedback"}
    for entity, read, accepted, quarantined, duplicate in rows:
        assert read == accepted + quarantined + duplicate, entity
    orders = next(r for r in rows if r[0] == "orders")
    assert orders[3] > 0 and orders[4] > 0  # the demo carries dirty rows and newer versions


def test_bi_readers_never_see_errors_or_a_mix_while_a_run_publishes(project, tmp_path):
    """A reader process queries every table in a loop while `segments run` lands one more orders file and
    publishes. (That a rerun on the same input publishes identical tables is test_faults' kill -9 rerun and
    test_incremental's third run.)"""
    root = copy_project(project[0], tmp_path / "copy")
    stop, out = tmp_path / "stop", tmp_path / "reads.jsonl"
    reader = subprocess.Popen([sys.executable, str(REPO / "tests" / "bi_reader.py"),
                               str(root / "data" / "publish"), str(stop), str(out)])
    try:
        write_csv(root / "data" / "landing" / "orders_late.csv", ORDER_HEADER,
                  [["LATE1", "C00000001", "2026-10-30T12:00:00", "completed", "CNY", "88", "", ""]])
        run = run_cli("run", cwd=root, env={k: "" for k in DEFAULTS})
        assert run.returncode == 0, run.stderr
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    reads = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(reads) > 50
    assert [r["error"] for r in reads if "error" in r] == []
    for read in reads:
        for view in ("bi", "parquet"):  # one publication at a time: its tables agree with each other
            seen = read[view]
            assert seen["customers"] == seen["summary"] == seen["playbook"], read
    files_seen = [r["bi"]["files"] for r in reads]
    assert files_seen == sorted(files_seen)  # never back to an older publication
    assert files_seen[0] + 1 == files_seen[-1]  # and the new one (one more file) was seen
    releases = [p for p in (root / "data" / "publish" / "releases").iterdir()]
    assert len(releases) == 2


def test_bi_clients_read_the_publication(project):
    root, _ = project
    publish = root / "data" / "publish"
    frame = pandas.read_parquet(publish / "current" / "customer_segments.parquet")  # pandas + pyarrow
    with bi(root) as con:
        assert len(frame) == con.execute("select count(*) from customer_segments").fetchone()[0]
    # SQLAlchemy with the duckdb dialect, in a client environment like Superset's (duckdb 1.x, SQLAlchemy 1.4)
    script = f"""
import sqlalchemy as sa
engine = sa.create_engine("duckdb:///{publish / 'bi.duckdb'}", connect_args={{"read_only": True}})
inspector = sa.inspect(engine)
tables = sorted(inspector.get_table_names())
columns = [c["name"] for c in inspector.get_columns("customer_segments")]
table = sa.Table("segment_summary", sa.MetaData(), autoload_with=engine)
with engine.connect() as con:
    count = con.execute(sa.select(sa.func.count()).select_from(table)).scalar()
print(";".join(tables)); print("customer_id" in columns, "business_segment" in columns, count > 0)
"""
    result = subprocess.run(
        ["uv", "run", "--no-project", "--quiet", "--with", "duckdb==1.4.4", "--with", "duckdb-engine==0.17.0",
         "--with", "sqlalchemy==1.4.54", "python", "-c", script],
        capture_output=True, text=True, timeout=300, cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    tables, checks = result.stdout.strip().splitlines()
    assert set(PUBLISHED_TABLES) <= set(tables.split(";"))
    assert checks == "True True True"


def test_unreadable_file_fails_in_one_line_and_keeps_the_publication(project, tmp_path):
    root, _ = project
    copy = copy_project(root, tmp_path / "copy")
    before = os.readlink(copy / "data" / "publish" / "current")
    (copy / "data" / "landing" / "orders_9999.parquet").write_bytes(b"PAR1 truncated")
    result = run_cli("run", cwd=copy, env={k: "" for k in DEFAULTS})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "orders_9999.parquet" in lines[0]
    assert os.readlink(copy / "data" / "publish" / "current") == before
    assert snapshot(copy) == snapshot(root)


def test_missing_landing_folder_is_named(tmp_path):
    result = run_cli("run", cwd=tmp_path, env={**{k: "" for k in DEFAULTS},
                                                 "SEGMENTS_LANDING_DIR": str(tmp_path / "nowhere")})
    assert result.returncode != 0
    assert "nowhere does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_changing_a_threshold_in_segments_yml_moves_the_expected_customers(project, tmp_path):
    root, _ = project
    copy = copy_project(root, tmp_path / "copy")
    with bi(root) as con:
        before = {cid: (tier, json.loads(reasons)["value_tier"]["share_of_buyers_ranked_ahead"])
                  for cid, tier, reasons in con.execute(
                      "select customer_id, value_tier, segment_reasons from customer_segments").fetchall()}
    rules = yaml.safe_load((REPO / "segments.yml").read_text(encoding="utf-8"))
    assert rules["parameters"]["value_tier_high_share"] == 0.2
    rules["parameters"]["value_tier_high_share"] = 0.4
    edited = tmp_path / "segments.yml"
    edited.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    # first previewed (segments preview): the moves are listed and nothing is published
    published = (copy / "data" / "publish" / "current").resolve()
    previewed = run_cli("preview", "--rules", str(edited), "--out", str(tmp_path / "preview"), cwd=copy,
                        env={k: "" for k in DEFAULTS})
    assert previewed.returncode == 0, previewed.stderr
    assert (copy / "data" / "publish" / "current").resolve() == published
    with (tmp_path / "preview" / "preview_movers.csv").open(encoding="utf-8-sig") as handle:
        movers = [row for row in csv.DictReader(handle)]
    result = run_cli("run", cwd=copy, env={**{k: "" for k in DEFAULTS}, "SEGMENTS_RULES_FILE": str(edited)})
    assert result.returncode == 0, result.stderr
    with bi(copy) as con:
        after = dict(con.execute("select customer_id, value_tier from customer_segments").fetchall())
        segments_after = con.execute("select customer_id, business_segment from customer_segments").fetchall()
    moved = {cid for cid in before if before[cid][0] != after[cid]}
    expected = {cid for cid, (tier, ahead) in before.items() if ahead is not None and 0.2 <= ahead < 0.4}
    assert moved == expected and len(moved) > 10
    assert {before[cid][0] for cid in moved} == {"mid"} and {after[cid] for cid in moved} == {"high"}
    # the preview named exactly the customers the run then moved, in every dimension it changed
    assert {(r["customer_id"], r["from_segment"], r["to_segment"]) for r in movers if r["dimension"] == "value_tier"} \
        == {(cid, "mid", "high") for cid in moved}
    with bi(root) as con:
        segments_before = dict(con.execute("select customer_id, business_segment from customer_segments").fetchall())
    assert {(r["customer_id"], r["to_segment"]) for r in movers if r["dimension"] == "business_segment"} \
        == {(cid, segment) for cid, segment in segments_after if segments_before[cid] != segment}
    assert f"value_tier: {len(moved)} would move" in previewed.stdout


def test_every_dimension_is_populated_in_the_demo(project):
    root, _ = project
    columns = ["age_band", "gender", "occupation", "income_band", "country_code", "city", "region_group",
               "city_tier", "interests", "top_category", "category_affinity", "top_browsed_category",
               "referrals_made", "influence_score", "company_size_tier", "industry", "holiday_spend_share",
               "weekend_order_share", "preferred_hour_band", "sessions", "click_through_rate",
               "add_to_cart_rate", "days_since_last_visit", "latest_nps", "nps_class", "channel_cac",
               "coarse_segment", "fine_segment", "segment_reasons"]
    with bi(root) as con:
        counts = con.execute(
            "select " + ", ".join(f"count({c}) filter (where {c} is not null)" for c in columns)
            + " from customer_segments").fetchone()
        assert dict(zip(columns, counts, strict=True)) == {c: n for c, n in zip(columns, counts, strict=True) if n > 0}
        tags = {t for (t,) in con.execute("select distinct tag_type from customer_tags").fetchall()}
        assert tags == {"static", "dynamic"}
        assert con.execute("select count(*) from segment_history where valid_to is not null").fetchone()[0] > 0
        playbook = con.execute("select count(*), sum(customers) from segment_playbook").fetchone()
        assert playbook[0] >= 5 and playbook[1] == con.execute("select count(*) from customer_segments").fetchone()[0]


def test_audiences_are_exported_for_each_crm_without_opted_out_customers(project):
    root, _ = project
    folder = root / "data" / "publish" / "current" / "audiences"
    with bi(root) as con:
        summary = {a: (m, o, h, e) for a, m, o, h, e in con.execute(
            "select audience, members, opted_out_excluded, held_out, exported from audience_summary").fetchall()}
        opted_out = {c for (c,) in con.execute(
            "select customer_id from customer_segments where marketing_opt_out").fetchall()}
        evaluated = dict(con.execute("select audience || '/' || \"group\", customers from audience_evaluation")
                         .fetchall())
    assert summary and sum(o for _, o, _, _ in summary.values()) > 0
    assert sum(h for _, _, h, _ in summary.values()) > 0
    # the control group: about audience_holdout_share (10 %) of those not opted out, never exported, and evaluated
    assert 0.04 < sum(h for *_, h, _ in summary.values()) / sum(h + e for *_, h, e in summary.values()) < 0.2
    assert {key.split("/")[1] for key in evaluated} == {"exported", "holdout"}
    for audience, (members, excluded, held_out, exported) in summary.items():
        assert members == excluded + held_out + exported
        for crm, id_column in (("salesforce", "External_Id__c"), ("hubspot", "customer_id"), ("zoho", "External ID")):
            raw = (folder / f"{audience}__{crm}.csv").read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens Chinese correctly
            rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
            assert len(rows) == exported
            assert not {r[id_column] for r in rows} & opted_out
            assert pii_columns(list(rows[0]) if rows else []) == []


def test_report_renders_every_chart_in_a_browser_without_errors(project, browser):
    root, _ = project
    report = root / "data" / "publish" / "current" / "report.html"
    page, problems = open_page(browser, report.resolve().as_uri())
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 9", timeout=30000)
    charts = page.eval_on_selector_all(".js-plotly-plot", "nodes => nodes.map(n => n.id)")
    assert set(charts) == {"chart-segments", "chart-rf-heatmap", "chart-tier-by-stage", "chart-clv", "chart-tags",
                           "chart-clv-predicted", "chart-backtest", "chart-transitions", "chart-kpi-trends"}
    for chart in charts:  # every chart drew its marks, not an empty frame
        marks = page.eval_on_selector(
            f"#{chart}", "n => n.querySelectorAll('.point, .bars path, .hm, image, .sankey-link, .js-line').length")
        assert marks > 0, chart
    assert "客户分群报告" in page.title()
    # the models: one table row per cluster, per explaining rule and per top product pair, as published
    with bi(root) as con:
        clusters, rules, pairs = con.execute("""
            select (select count(cluster) from cluster_profiles), (select count(*) from segment_rules_explained),
                (select least(count(*), 10) from product_associations
                 where item_type = 'product' and antecedent < consequent)""").fetchall()[0]
        shifts = con.execute("select least(count(*), 15) from category_trends where flagged").fetchall()[0][0]
    for heading, rows in (("行为聚类", clusters), ("分群规则解释", rules), ("关联商品", pairs), ("需求变化", shifts)):
        section = page.locator("section", has=page.locator(f"h2:has-text('{heading}')"))
        assert section.locator("tr").count() == rows + (1 if rows else 0), heading
    assert clusters >= 3 and rules > 0
    assert problems == []
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
    assert page.locator("a[href='docs/index.html']").count() == 1
    docs_page = (report.parent / "docs" / "index.html").resolve().as_uri()
    docs, docs_problems = open_page(browser, f"{docs_page}#!/model/model.segments.customer_segments")
    docs.wait_for_function("() => document.body.innerText.includes('One row per customer known on the as-of date')",
                           timeout=30000)
    # opened from disk, dbt's own docs app logs file:// loading errors to the console; it must not throw
    assert [p for p in docs_problems if p.startswith("pageerror:")] == []


def undocumented(node: dict, columns: list[str]) -> list[str]:
    """What a reader of dbt docs would miss: the model's description, a column's, or a column described but gone."""
    documented = {c for c, v in node["columns"].items() if v.get("description", "").strip()}
    problems = [] if node["description"].strip() else [f"{node['name']}: no description"]
    problems += [f"{node['name']}.{c}: no description" for c in columns if c not in documented]
    return problems + [f"{node['name']}.{c}: described but not built" for c in node["columns"] if c not in columns]


def test_every_published_column_is_documented_in_dbt(project):
    """BI users read these descriptions in dbt docs: no published column goes without one."""
    root, _ = project
    nodes = json.loads((REPO / "target" / "manifest.json").read_text())["nodes"]
    with bi(root) as con:
        problems = [problem for table in PUBLISHED_TABLES for problem in undocumented(
            nodes[f"model.segments.{table}"], [row[0] for row in con.execute(f"describe {table}").fetchall()])]
    assert problems == []


def test_every_model_and_column_is_documented_in_dbt(project):
    """Data engineers read dbt docs for every layer: each model built, and each of its columns, is described
    (and nothing is described that the model no longer has)."""
    root, _ = project
    nodes = json.loads((REPO / "target" / "manifest.json").read_text())["nodes"]
    models = [node for node in nodes.values() if node["resource_type"] == "model"]
    problems = []
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        for node in models:
            relation = f'"{node["schema"]}"."{node["alias"]}"'
            problems += undocumented(node, [row[0] for row in con.execute(f"describe {relation}").fetchall()])
    assert len(models) > 30 and problems == []
