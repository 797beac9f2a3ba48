"""segments.yml -> validated rules -> SQL fragments for dbt, so segments and tags change without code.

A rule is a mapping of column to a simple comparison. Columns come from a fixed catalog, values
are checked against the column's type and vocabulary, and every value reaches SQL as a quoted
literal built here: configuration can never inject SQL.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from orchestration.settings import Settings

NUMBER, TEXT, BOOLEAN = "number", "text", "boolean"
_VOCABULARIES = {
    "value_tier": ("high", "mid", "low"),
    "frequency_group": ("high", "low", "one_time"),
    "lifecycle_stage": ("prospect", "new", "active", "silent", "churned"),
    "fm_quadrant": ("high_frequency_high_value", "high_frequency_low_value", "low_frequency_high_value",
                    "low_frequency_low_value", "no_purchase"),
    "rfm_segment": ("champion", "loyal", "potential_loyalist", "new_customer", "promising", "need_attention",
                    "about_to_sleep", "at_risk", "cant_lose", "hibernating", "no_purchase"),
    "customer_type": ("B2C", "B2B"),
    "gender": ("male", "female", "unknown"),
    "company_size_tier": ("large", "mid", "small"),
    "nps_class": ("promoter", "passive", "detractor"),
    "city_tier": ("1", "new_1", "2", "3", "other"),
    "region_group": ("north", "east", "south", "central", "southwest", "northwest", "northeast", "international"),
    "preferred_hour_band": ("night", "morning", "afternoon", "evening"),
    "age_band": ("<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"),
}
_NUMBERS = (
    "recency_days frequency monetary avg_order_value orders_placed cancelled_orders refunded_orders tenure_days "
    "category_count r_score f_score m_score merged_customer_ids age referrals_made referral_revenue "
    "influence_score holiday_spend_share weekend_order_share sessions page_views avg_dwell_seconds "
    "click_through_rate add_to_cart_rate days_since_last_visit latest_nps latest_csat channel_cac"
).split()
_FREE_TEXT = (
    "acquisition_channel industry occupation income_band country_code province city top_category "
    "top_browsed_category"
).split()

# Every column a rule may test, with its type; code columns also carry their vocabulary.
CATALOG: dict[str, str] = {
    **{c: NUMBER for c in _NUMBERS},
    **{c: TEXT for c in [*_FREE_TEXT, *_VOCABULARIES]},
    "marketing_opt_out": BOOLEAN,
}
OPERATORS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "in", "not_in": "not in",
             "is_null": "is null"}
ORDERED_OPERATORS = {"gt", "gte", "lt", "lte"}
# dbt vars an analyst may set under `parameters:`; every one is a number
PARAMETERS = (
    "score_buckets value_tier_high_share value_tier_mid_share frequency_high_min_orders lifecycle_new_days "
    "lifecycle_active_days lifecycle_churn_days fm_quadrant_high_score clv_expected_lifespan_years "
    "clv_default_cac clv_min_observation_days cac_window_days b2b_large_min_employees b2b_large_min_revenue "
    "b2b_mid_min_employees b2b_mid_min_revenue history_months min_segment_size clv_prediction_months "
    "clv_monthly_discount_rate clv_min_repeat_buyers clv_min_history_days clv_backtest_days association_min_orders "
    "association_min_support association_min_lift recommendation_count recommendation_exclude_days "
    "playbook_cross_sell_pairs cluster_k_min cluster_k_max cluster_sample_size cluster_min_customers "
    "explain_max_depth explain_min_leaf_share explain_sample_size explain_min_customers mining_seed "
    "trend_window_days trend_min_z trend_min_buyers kpi_retention_days kpi_max_change audience_holdout_share "
    "grace_days_value_tier grace_days_lifecycle_stage"
).split()
# Columns customer_segments publishes besides the dimensions of segments.yml (and those CONTRACT
# section 5 adds): a dimension of that name would overwrite one. tests/test_rules.py keeps this in
# step with models/marts/_marts.yml.
PUBLISHED_COLUMNS = frozenset((
    "customer_id as_of_date interests signup_date first_order_date last_order_date currency rfm_score coarse_segment "
    "fine_segment clv category_affinity segment_reasons p_alive expected_purchases_90d expected_purchases_365d "
    "predicted_clv_12m cluster previous_segment segment_since value_tier_effective lifecycle_stage_effective "
    "grace_reason override_reason"
).split())
# Beyond this a number in segments.yml is a typo, and SQL would carry it as an overflowing literal.
LARGEST_NUMBER = 1e15
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,39}")
# Rule conditions name their columns bare (Condition.sql): a dimension may not be named like a keyword of DuckDB's or
# Spark's SQL
SQL_KEYWORDS = frozenset(
    "all and any array as asc between both by case cast check collate column constraint create cross current "
    "default desc distinct do else end except exists false fetch filter for foreign from full grant group having "
    "in inner intersect interval into is join lateral leading left like limit map natural not null of offset on "
    "only or order outer over partition pivot primary qualify range references right rows select some struct "
    "table then to trailing true union unique unpivot user using values when where window with".split())
TAG_CODE = re.compile(r"[a-z][a-z0-9_:]{0,59}")


class RulesError(ValueError):
    """segments.yml cannot be used; the message names the place and the problem."""


@dataclass(frozen=True)
class Condition:
    column: str
    operator: str
    value: Any

    def sql(self) -> str:
        # a catalog column or a dimension name, both lower_case identifiers and no SQL keyword: written bare, since
        # "name" is an identifier on DuckDB but a string on Spark
        column = self.column
        if self.operator == "is_null":
            return f"{column} is null" if self.value else f"{column} is not null"
        if self.operator in ("in", "not_in"):
            values = ", ".join(_literal(v) for v in self.value)
            if self.operator == "in":
                return f"{column} in ({values})"
            return f"coalesce({column} not in ({values}), true)"
        if self.operator == "ne":
            return f"{column} is distinct from {_literal(self.value)}"
        return f"{column} {OPERATORS[self.operator]} {_literal(self.value)}"

    def covers(self, other: Condition) -> bool:
        """Every value other lets through, this lets through too (same column)."""
        if self.column != other.column:
            return False
        if self.operator in ("eq", "in") and other.operator in ("eq", "in"):
            return set(_as_list(other.value)) <= set(_as_list(self.value))
        if self.operator in ORDERED_OPERATORS and other.operator in ORDERED_OPERATORS | {"eq"}:
            low, high = _interval(other)
            mine_low, mine_high = _interval(self)
            return mine_low <= low and high <= mine_high
        return self == other


@dataclass(frozen=True)
class Rule:
    code: str
    conditions: tuple[Condition, ...]
    otherwise: bool
    label_en: str
    label_zh: str
    description: str
    action: str

    def sql(self) -> str:
        return "true" if self.otherwise else " and ".join(c.sql() for c in self.conditions)

    def explain_columns(self) -> list[str]:
        """The columns the rule looked at, in its order: its reason shows their values (macros/engine.sql)."""
        return list(dict.fromkeys(c.column for c in self.conditions))

    def shadowed_by(self, earlier: Rule) -> bool:
        """True when every customer this rule could match is taken by the earlier rule."""
        if earlier.otherwise:
            return True
        return all(any(e.covers(mine) for mine in self.conditions) for e in earlier.conditions)


@dataclass(frozen=True)
class Tag:
    code: str
    tag_type: str
    conditions: tuple[Condition, ...]
    from_column: str | None
    expires_after_days: int
    label_en: str
    label_zh: str


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys without a word; a rules file must not."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise RulesError(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def load(path: Path | None = None) -> dict[str, Any]:
    """Read, validate and compile segments.yml (SEGMENTS_RULES_FILE) into dbt vars (plain JSON data)."""
    path = path or Settings.from_env().rules_file
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise RulesError(f"{path} not found") from None
    except OSError as error:
        raise RulesError(f"{path} cannot be read: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise RulesError(f"{path.name} is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except RulesError as error:
        raise RulesError(f"{path.name}: {error}") from None
    except yaml.YAMLError as error:
        raise RulesError(f"{path.name} is not valid YAML: {str(error).splitlines()[0]}") from None
    except RecursionError:
        raise RulesError(f"{path.name} is nested too deeply to be a rules file") from None
    return compile_config(raw, path.name)


def compile_config(raw: Any, source: str = "segments.yml") -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise RulesError(f"{source}: expected a mapping with parameters, segments and tags")
    _only_keys(raw, {"version", "parameters", "segments", "tags", "audiences"}, source)
    parameters = _parameters(raw.get("parameters") or {}, f"{source}: parameters")
    segments = raw.get("segments")
    if not isinstance(segments, dict) or not segments:
        raise RulesError(f"{source}: segments must map at least one dimension name to its rules")
    dimensions = []
    for name, body in segments.items():
        where = f"{source}: segments.{name}"
        if not isinstance(name, str) or not IDENTIFIER.fullmatch(name) or name in CATALOG or name in SQL_KEYWORDS:
            raise RulesError(f"{where}: a dimension name must be a new lower_case identifier, not an SQL keyword")
        if name in PUBLISHED_COLUMNS or name.endswith("_reason"):
            raise RulesError(f"{where}: {name!r} is already a column of customer_segments; choose another name")
        if not isinstance(body, dict):
            raise RulesError(f"{where}: expected description and rules")
        _only_keys(body, {"description", "rules"}, where)
        rules = _rules(body.get("rules"), where)
        dimensions.append({
            "name": name,
            "description": str(body.get("description", "")),
            "rules": [{"code": r.code, "sql": r.sql(), "explain_columns": r.explain_columns(), "label_en": r.label_en,
                       "label_zh": r.label_zh, "description": r.description, "action": r.action} for r in rules],
        })
    tags = _tags(raw.get("tags") or [], f"{source}: tags")
    codes = {d["name"]: tuple(r["code"] for r in d["rules"]) for d in dimensions}
    audiences = _audiences(raw.get("audiences") or [], {t.code for t in tags}, codes, f"{source}: audiences")
    return {
        "audiences": audiences,
        "parameters": parameters,
        "dimensions": dimensions,
        "tags": [{"code": t.code, "tag_type": t.tag_type, "from_column": t.from_column,
                  "sql": " and ".join(c.sql() for c in t.conditions) or "true",
                  "expires_after_days": t.expires_after_days, "label_en": t.label_en, "label_zh": t.label_zh}
                 for t in tags],
    }


def _parameters(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: expected a mapping of name to number")
    for name, value in raw.items():
        if name not in PARAMETERS:
            raise RulesError(f"{where}: unknown parameter {name!r} (known: {', '.join(PARAMETERS)})")
        if not _is_number(value) or value < 0:
            raise RulesError(f"{where}.{name}: must be a number between 0 and {LARGEST_NUMBER:.0e}, got {value!r}")
    shares = (raw.get("value_tier_high_share", 0.2), raw.get("value_tier_mid_share", 0.5))
    if not shares[0] <= shares[1] <= 1:
        raise RulesError(f"{where}: value_tier_high_share <= value_tier_mid_share <= 1 must hold")
    windows = [raw.get(k, d) for k, d in (("lifecycle_active_days", 180), ("lifecycle_churn_days", 365))]
    if windows[0] > windows[1]:
        raise RulesError(f"{where}: lifecycle_active_days must not exceed lifecycle_churn_days")
    clusters = (raw.get("cluster_k_min", 3), raw.get("cluster_k_max", 8))
    if not 2 <= clusters[0] <= clusters[1] or any(value != int(value) for value in clusters):
        raise RulesError(f"{where}: cluster_k_min and cluster_k_max must be whole numbers, 2 <= k_min <= k_max")
    if not raw.get("audience_holdout_share", 0.1) <= 0.5:
        raise RulesError(f"{where}: audience_holdout_share must be between 0 and 0.5 (most of an audience is exported)")
    if not 1 <= raw.get("explain_max_depth", 3) <= 8:
        raise RulesError(f"{where}: explain_max_depth must be between 1 and 8 (deeper rules are no explanation)")
    return dict(raw)


def _rules(raw: Any, where: str) -> list[Rule]:
    if not isinstance(raw, list) or not raw:
        raise RulesError(f"{where}.rules: expected a list of rules, the last one `otherwise: true`")
    rules: list[Rule] = []
    for index, item in enumerate(raw, start=1):
        place = f"{where}.rules[{index}]"
        if not isinstance(item, dict):
            raise RulesError(f"{place}: expected a mapping")
        _only_keys(item, {"code", "label_en", "label_zh", "description", "action", "when", "otherwise"}, place)
        code = item.get("code")
        if not isinstance(code, str) or not IDENTIFIER.fullmatch(code):
            raise RulesError(f"{place}: code must be a lower_case identifier, got {code!r}")
        place = f"{where} rule {code!r}"
        if any(r.code == code for r in rules):
            raise RulesError(f"{place}: the code is used twice")
        otherwise = item.get("otherwise", False) is True
        if otherwise == ("when" in item):
            raise RulesError(f"{place}: give either `when:` or `otherwise: true`")
        for key in ("label_en", "label_zh", "action"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise RulesError(f"{place}: {key} is required")
        rule = Rule(code, () if otherwise else _conditions(item["when"], place), otherwise,
                    item["label_en"], item["label_zh"], str(item.get("description", "")), item["action"])
        for earlier in rules:
            if rule.shadowed_by(earlier):
                raise RulesError(f"{place}: unreachable, every customer it matches is taken by rule {earlier.code!r}")
        rules.append(rule)
    if not rules[-1].otherwise:
        raise RulesError(f"{where}: the last rule must be `otherwise: true`, so that every customer gets a segment")
    return rules


def _tags(raw: Any, where: str) -> list[Tag]:
    if not isinstance(raw, list):
        raise RulesError(f"{where}: expected a list")
    tags: list[Tag] = []
    for index, item in enumerate(raw, start=1):
        place = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise RulesError(f"{place}: expected a mapping")
        _only_keys(item, {"code", "type", "when", "from_column", "expires_after_days", "label_en", "label_zh"},
                   place)
        code = item.get("code")
        if not isinstance(code, str) or not TAG_CODE.fullmatch(code):
            raise RulesError(f"{place}: code must be a lower_case identifier, got {code!r}")
        place = f"{where} {code!r}"
        if any(t.code == code for t in tags):
            raise RulesError(f"{place}: the code is used twice")
        if item.get("type") not in ("static", "dynamic"):
            raise RulesError(f"{place}: type must be static or dynamic")
        expires = item.get("expires_after_days")
        if not isinstance(expires, int) or isinstance(expires, bool) or not 1 <= expires <= 36_500:
            raise RulesError(
                f"{place}: expires_after_days must be a whole number of days from 1 to 36500 (every tag lapses)")
        from_column = item.get("from_column")
        if from_column is not None and CATALOG.get(from_column) != TEXT:
            raise RulesError(f"{place}: from_column must be a text column of the catalog, got {from_column!r}")
        if "when" not in item and from_column is None:
            raise RulesError(f"{place}: give `when:` or `from_column:`")
        conditions = _conditions(item["when"], place) if "when" in item else ()
        tags.append(Tag(code, item["type"], conditions, from_column, expires,
                        str(item.get("label_en", code)), str(item.get("label_zh", code))))
    return tags


def _audiences(raw: Any, tag_codes: set[str], dimensions: dict[str, tuple[str, ...]], where: str
               ) -> list[dict[str, Any]]:
    """Audiences for CRM export: a segment filter (`when`), a tag filter (`has_tag`), or both."""
    if not isinstance(raw, list):
        raise RulesError(f"{where}: expected a list")
    audiences: list[dict[str, Any]] = []
    for index, item in enumerate(raw, start=1):
        place = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise RulesError(f"{place}: expected a mapping")
        _only_keys(item, {"name", "description", "when", "has_tag"}, place)
        name = item.get("name")
        if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
            raise RulesError(f"{place}: name must be a lower_case identifier, got {name!r}")
        if any(a["name"] == name for a in audiences):
            raise RulesError(f"{where} {name!r}: the name is used twice")
        has_tag = item.get("has_tag")
        if has_tag is not None and has_tag not in tag_codes:
            raise RulesError(f"{where} {name!r}: has_tag {has_tag!r} is not a tag of this file")
        if "when" not in item and has_tag is None:
            raise RulesError(f"{where} {name!r}: give `when:`, `has_tag:` or both")
        conditions = _conditions(item["when"], f"{where} {name!r}", dimensions) if "when" in item else ()
        audiences.append({"name": name, "description": str(item.get("description", "")),
                          "sql": " and ".join(c.sql() for c in conditions) or "true", "has_tag": has_tag})
    return audiences


def _conditions(raw: Any, place: str, dimensions: dict[str, tuple[str, ...]] | None = None
                ) -> tuple[Condition, ...]:
    """Validated conditions; `dimensions` adds the configured segment columns with their codes."""
    if not isinstance(raw, dict) or not raw:
        raise RulesError(f"{place}: `when` must map columns to values or simple comparisons")
    dimensions = dimensions or {}
    conditions = []
    for column, spec in raw.items():
        if column not in CATALOG and column not in dimensions:
            raise RulesError(f"{place}: unknown column {column!r}")
        if isinstance(spec, dict):
            if len(spec) != 1:
                raise RulesError(f"{place}.{column}: one comparison per column, e.g. {{gte: 3}}")
            [(operator, value)] = spec.items()
        elif isinstance(spec, list):
            operator, value = "in", spec
        else:
            operator, value = "eq", spec
        if operator not in OPERATORS:
            raise RulesError(f"{place}.{column}: {operator!r} is not a simple comparison "
                             f"(use one of {', '.join(OPERATORS)})")
        conditions.append(Condition(column, operator, _checked_value(column, operator, value, place, dimensions)))
    return tuple(conditions)


def _checked_value(column: str, operator: str, value: Any, place: str,
                   dimensions: dict[str, tuple[str, ...]]) -> Any:
    kind = CATALOG.get(column, TEXT)
    where = f"{place}.{column}"
    if operator == "is_null":
        if not isinstance(value, bool):
            raise RulesError(f"{where}: is_null takes true or false")
        return value
    values = value if operator in ("in", "not_in") else [value]
    if operator in ("in", "not_in") and (not isinstance(value, list) or not value):
        raise RulesError(f"{where}: {operator} takes a non-empty list")
    if operator in ORDERED_OPERATORS and kind != NUMBER:
        raise RulesError(f"{where}: {operator} needs a number column, {column} is {kind}")
    for item in values:
        if kind == NUMBER and not _is_number(item):
            raise RulesError(f"{where}: {column} is a number (at most {LARGEST_NUMBER:.0e} either way), got {item!r}")
        if kind == BOOLEAN and not isinstance(item, bool):
            raise RulesError(f"{where}: {column} is true or false, got {item!r}")
        if kind == TEXT:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise RulesError(f"{where}: {column} is text, got {item!r}")
            vocabulary = dimensions.get(column) or _VOCABULARIES.get(column)
            if vocabulary and str(item) not in vocabulary:
                raise RulesError(f"{where}: {item!r} is not a {column} ({', '.join(vocabulary)})")
    if kind == TEXT:
        return [str(v) for v in values] if operator in ("in", "not_in") else str(value)
    return value


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return repr(value)
    return sql_string(str(value))


def sql_string(text: str) -> str:
    """A string literal that DuckDB and Spark read alike: Spark reads a backslash as an escape and takes 'it''s' for
    two adjacent literals ('its'), so a quote or a backslash is spelled with chr() (macros/engine.sql, sql_string)."""
    if "'" not in text and "\\" not in text:
        return f"'{text}'"
    pieces = [f"chr({ord(piece)})" if piece in ("'", "\\") else f"'{piece}'"
              for piece in re.split(r"(['\\\\])", text) if piece]
    return "(" + " || ".join(pieces) + ")"


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and abs(value) <= LARGEST_NUMBER)


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _interval(condition: Condition) -> tuple[float, float]:
    value = condition.value
    return {
        "gt": (value + 1e-9, math.inf), "gte": (value, math.inf), "lt": (-math.inf, value - 1e-9),
        "lte": (-math.inf, value), "eq": (value, value),
    }[condition.operator]


def _only_keys(mapping: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise RulesError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
