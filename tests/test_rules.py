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
    assert sqls[0] == "\"recency_days\" <= 30 and \"lifecycle_stage\" in ('new', 'active') and \"city\" = 'O''Hare'"
    assert sqls[1] == "\"industry\" is distinct from 'retail' and \"latest_nps\" is null"
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
