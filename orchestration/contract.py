"""The landing-zone contract (CONTRACT.md section 1) as data: entities, their columns and the banned ones."""

from __future__ import annotations

import re
import unicodedata

ENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "customer_id", "name", "email", "phone", "gender", "birth_date", "city", "province",
        "country", "signup_ts", "acquisition_channel", "customer_type", "company_name",
        "industry", "employee_count", "annual_revenue", "occupation", "income_band",
        "interests", "referred_by", "marketing_opt_out", "updated_at",
    ),
    "orders": (
        "order_id", "customer_id", "order_ts", "status", "currency", "total_amount",
        "discount_amount", "channel", "updated_at",
    ),
    "order_items": ("order_id", "line_no", "product_id", "quantity", "unit_price"),
    "products": ("product_id", "product_name", "category", "subcategory", "brand"),
    "marketing_spend": ("spend_date", "channel", "spend", "currency"),
    "web_events": (
        "event_id", "customer_id", "session_id", "event_ts", "event_type", "page_category", "dwell_seconds",
    ),
    "feedback": ("customer_id", "survey_ts", "nps_score", "csat_score", "comment"),
    "segment_overrides": ("customer_id", "dimension", "segment", "reason", "requested_by", "valid_from", "expires_at"),
}

REQUIRED_ENTITIES = ("customers", "orders")

# Columns a file must have for its rows to mean anything (keys and required timestamps).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "signup_ts"),
    "orders": ("order_id", "customer_id", "order_ts"),
    "order_items": ("order_id", "line_no"),
    "products": ("product_id",),
    "marketing_spend": ("spend_date", "channel", "spend"),
    "web_events": ("event_id", "event_ts"),
    "feedback": ("customer_id", "survey_ts"),
    "segment_overrides": ("customer_id", "dimension", "segment", "valid_from"),
}

# Protected attributes are never classified on, whatever a file carries (CONTRACT section 1). A column
# is protected when its name, normalised, holds one of these words as a token (`religion_code`,
# `race_ethnicity`), one of the long words anywhere (`sexualorientation`), or one of the Chinese terms.
PROTECTED_TOKENS = frozenset({
    "race", "races", "racial", "ethnicity", "ethnic", "ethnicities", "religion", "religions", "religious",
    "faith", "creed", "sexuality", "political", "politics", "caste", "tribe",
})
PROTECTED_PHRASES = (("sexual", "orientation"), ("sex", "orientation"), ("political", "party"),
                     ("party", "affiliation"), ("ethnic", "group"))
PROTECTED_SUBSTRINGS = ("ethnicit", "religio", "sexualorientation", "politicalaffiliation", "politicalparty")
PROTECTED_CJK = ("民族", "种族", "族裔", "宗教", "信仰", "性取向", "性向", "政治面貌", "政治倾向", "政治立场", "党派",
                 "黨派", "種族", "宗敎")

# Direct identifiers (CONTRACT section 4): pseudonymised after staging, never published.
PII_COLUMN = re.compile(
    r"(^|_)(name|names|email|e_mail|mail|phone|mobile|tel|telephone|address|street)(_|$)|姓名|电话|手机|邮箱|地址"
)
# Names that match the pattern above but identify no person.
NOT_PII_COLUMNS = frozenset({"product_name", "column_name"})


def is_pii(column: str) -> bool:
    return column not in NOT_PII_COLUMNS and bool(PII_COLUMN.search(normalise_column(column)))


METADATA_COLUMNS = ("_source_file", "_file_hash", "_row_number", "_loaded_at")


def _visible(name: str) -> str:
    """Full-width letters folded (NFKC) and invisible characters (zero-width, BOM, controls) removed."""
    folded = unicodedata.normalize("NFKC", name)
    return "".join(ch for ch in folded if unicodedata.category(ch) not in ("Cf", "Cc", "Cs", "Co", "Cn"))


def normalise_column(name: str) -> str:
    """Header as written -> the column name used in raw tables (lower case, underscores)."""
    cleaned = _visible(name).strip().lower()
    return re.sub(r"[\s\-]+", "_", cleaned)


def is_protected(column: str) -> bool:
    visible = _visible(column)
    # camelCase and any separator split into tokens: `RaceEthnicity`, `religion.code`, `sexual-orientation`
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", visible).lower()
    tokens = [t for t in re.split(r"[\W_]+", spaced) if t]
    squashed = "".join(tokens)
    if any(t in PROTECTED_TOKENS for t in tokens):
        return True
    if any(tuple(tokens[i:i + len(p)]) == p for p in PROTECTED_PHRASES for i in range(len(tokens))):
        return True
    return any(s in squashed for s in PROTECTED_SUBSTRINGS) or any(s in visible for s in PROTECTED_CJK)


def entity_of(file_name: str) -> str | None:
    """`orders_2026-11-22.csv` -> `orders`; the longest entity name wins (order_items before orders)."""
    lower = file_name.lower()
    if not lower.endswith((".csv", ".parquet")):
        return None
    for entity in sorted(ENTITY_COLUMNS, key=len, reverse=True):
        if lower.startswith(entity):
            return entity
    return None
