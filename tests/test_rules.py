"""segments.yml validation and compilation: every kind of bad configuration is refused with its reason."""

import copy

import pytest
import yaml

from orchestration.rules import RulesError, compile_config, load
from tests.conftest import REPO

SHIPPED = yaml.safe_load((REPO / "segments.yml").read_text(encoding="utf-8"))


def with_rules(*rules, tags=None, parameters=None) -> dict:
    config = {"version": 1, "segments": {"tier": {"rules": list(rules)}}, "tags": tags or []}
    if parameters is not None:
        config["parameters"] = parameters
    return config


def rule(code, when=None, **extra):
    body = {"code": code, "label_en": code, "label_zh": code, "action": "act"}
    if when is None:
        body["otherwise"] = True
    else:
        body["when"] = when
    return {**body, **extra}


def test_the_shipped_configuration_compiles():
    compiled = load(REPO / "segments.yml")
    [business] = compiled["dimensions"]
    codes = [r["code"] for r in business["rules"]]
    assert codes[0] == "prospect" and codes[-1] == "churned"
    assert {"high_value", "potential", "new", "silent", "key_account"} <= set(codes)
    assert business["rules"][-1]["sql"] == "true"
    assert {t["code"] for t in compiled["tags"]} >= {"high_frequency", "holiday_shopper", "lapsed_30d",
                                                     "big_spender", "promoter", "browsing_without_buying"}


def test_simple_comparisons_compile_to_quoted_sql():
    compiled = compile_config(with_rules(
        rule("a", {"recency_days": {"lte": 30}, "lifecycle_stage": ["new", "active"], "city": "O'Hare"}),
        rule("b", {"industry": {"ne": "retail"}, "latest_nps": {"is_null": True}}),
        rule("c"),
    ))
    sqls = [r["sql"] for r in compiled["dimensions"][0]["rules"]]
    assert sqls[0] == ("recency_days <= 30 and lifecycle_stage in ('new', 'active') and "
                       "city = ('O' || chr(39) || 'Hare')")
    assert sqls[1] == "industry is distinct from 'retail' and latest_nps is null"
    assert sqls[2] == "true"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (with_rules(rule("a", {"favourite_colour": "red"}), rule("b")), "unknown column 'favourite_colour'"),
        (with_rules(rule("a", {"lifecycle_stage": "sleeping"}), rule("b")), "'sleeping' is not a lifecycle_stage"),
        (with_rules(rule("a", {"recency_days": "recent"}), rule("b")), "recency_days is a number"),
        (with_rules(rule("a", {"city": {"gte": 3}}), rule("b")), "gte needs a number column"),
        (with_rules(rule("a", {"frequency": {"between": [1, 3]}}), rule("b")), "'between' is not a simple comparison"),
        (with_rules(rule("a", {"frequency": {"gte": 1, "lte": 3}}), rule("b")), "one comparison per column"),
        (with_rules(rule("a", {"frequency": "1; drop table customers"}), rule("b")), "frequency is a number"),
        (with_rules(rule("a", {"frequency": {"sql": "1=1"}}), rule("b")), "'sql' is not a simple comparison"),
        (with_rules(rule("a", {"recency_days": {"lte": 90}}), rule("b", {"recency_days": {"lte": 30}}), rule("c")),
         "rule 'b': unreachable, every customer it matches is taken by rule 'a'"),
        (with_rules(rule("a", {"lifecycle_stage": ["new", "active"]}),
                    rule("b", {"lifecycle_stage": "active", "value_tier": "high"}), rule("c")),
         "rule 'b': unreachable"),
        (with_rules(rule("a"), rule("b", {"frequency": 1})), "rule 'b': unreachable"),
        (with_rules(rule("a", {"frequency": 1})), "the last rule must be `otherwise: true`"),
        (with_rules(rule("a", {"frequency": 1}), rule("a")), "the code is used twice"),
        (with_rules(rule("Bad Code", {"frequency": 1}), rule("b")), "code must be a lower_case identifier"),
        (with_rules(rule("a", {"frequency": 1}, label_zh=""), rule("b")), "label_zh is required"),
        (with_rules(rule("a", {"frequency": 1}, colour="red"), rule("b")), "unknown key 'colour'"),
        (with_rules(rule("b"), parameters={"value_tier_high_share": 0.7, "value_tier_mid_share": 0.5}),
         "value_tier_high_share <= value_tier_mid_share"),
        (with_rules(rule("b"), parameters={"max_discount": 3}), "unknown parameter 'max_discount'"),
        (with_rules(rule("b"), tags=[{"code": "t", "type": "dynamic", "when": {"frequency": 1}}]),
         "expires_after_days must be a whole number"),
        (with_rules(rule("b"), tags=[{"code": "t", "type": "sometimes", "when": {"frequency": 1},
                                      "expires_after_days": 3}]), "type must be static or dynamic"),
        ({"segments": {"frequency": {"rules": [rule("a")]}}}, "a dimension name must be a new lower_case identifier"),
    ],
)
def test_bad_configuration_is_refused_with_its_reason(config, message):
    with pytest.raises(RulesError, match=message.replace("(", r"\(").replace(")", r"\)").replace("`", ".")):
        compile_config(config)


def test_overlap_that_is_not_shadowing_is_allowed_and_resolved_by_order():
    compiled = compile_config(with_rules(
        rule("a", {"lifecycle_stage": "active"}),
        rule("b", {"value_tier": "high"}),  # overlaps a (active and high) but also catches others
        rule("c"),
    ))
    assert [r["code"] for r in compiled["dimensions"][0]["rules"]] == ["a", "b", "c"]


def test_a_broken_file_names_itself(tmp_path):
    path = tmp_path / "segments.yml"
    path.write_text("segments: [unclosed", encoding="utf-8")
    with pytest.raises(RulesError, match="segments.yml is not valid YAML"):
        load(path)
    broken = copy.deepcopy(SHIPPED)
    broken["segments"]["business_segment"]["rules"][1]["when"]["company_size_tier"] = "huge"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RulesError, match="'huge' is not a company_size_tier"):
        load(path)


@pytest.mark.parametrize(("content", "message"), [
    ("segments:\n  tier:\n    rules: []\n".encode("gbk") + "# 中文注释\n".encode("gbk"), "not UTF-8 text"),
    (b"parameters:\n  min_segment_size: 5\n  min_segment_size: 6\nsegments: {}\n", "'min_segment_size' is given twice"),
    (b"segments:\n  tier: {}\n  tier: {}\n", "'tier' is given twice"),
    (b"parameters:\n  min_segment_size: 1" + b"0" * 40 + b"\n", "between 0 and 1e\\+15"),
    (b"parameters:\n  min_segment_size: 1e400\n", "between 0 and 1e\\+15"),
    (b"[[[[[[[[[[" * 2000, "not valid YAML|nested too deeply"),
])
def test_unusable_files_are_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "segments.yml"
    path.write_bytes(content)
    with pytest.raises(RulesError, match=message) as raised:
        load(path)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("name", ["clv", "as_of_date", "segment_reasons", "p_alive", "cluster", "x_reason"])
def test_a_dimension_named_like_a_published_column_is_refused(name):
    config = {"segments": {name: {"rules": [rule("all")]}}}
    with pytest.raises(RulesError, match="choose another name|new lower_case identifier"):
        compile_config(config)


def test_huge_numbers_in_conditions_are_refused():
    with pytest.raises(RulesError, match="at most 1e\\+15"):
        compile_config(with_rules(rule("big", {"monetary": {"gte": 10**20}}), rule("rest")))


def test_published_columns_list_matches_customer_segments():
    marts = yaml.safe_load((REPO / "models" / "marts" / "_marts.yml").read_text(encoding="utf-8"))
    [model] = [m for m in marts["models"] if m["name"] == "customer_segments"]
    dimensions = {d["name"] for d in load(REPO / "segments.yml")["dimensions"]}
    from orchestration.rules import CATALOG, PUBLISHED_COLUMNS

    documented = {c["name"] for c in model["columns"]} - dimensions
    assert documented <= PUBLISHED_COLUMNS | set(CATALOG), documented - PUBLISHED_COLUMNS - set(CATALOG)


def test_a_bad_rules_file_is_one_line_from_the_cli_and_definitions_still_load(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "segments.yml"
    bad.write_text("segments:\n  tier:\n    rules: [{code: x}]\n", encoding="utf-8")
    env = {"SEGMENTS_RULES_FILE": str(bad), "SEGMENTS_LANDING_DIR": str(tmp_path / "landing"),
           "SEGMENTS_WAREHOUSE": str(tmp_path / "w.duckdb"), "SEGMENTS_PUBLISH_DIR": str(tmp_path / "publish")}
    from tests.conftest import run_cli

    run = run_cli("run", cwd=tmp_path, env=env)
    assert run.returncode != 0
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
    assert "segments.yml" in run.stderr
    # the code location loads with the broken file (what `dagster dev` imports), in a fresh interpreter
    script = ("from orchestration.definitions import defs; d = defs(); "
              "print(len(list(d.resolve_asset_graph().get_all_asset_keys())))")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                            env={**__import__("os").environ, **env}, timeout=300)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert int(loaded.stdout.strip().splitlines()[-1]) > 50
