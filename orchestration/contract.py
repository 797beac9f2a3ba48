"""The landing-zone contract (CONTRACT.md section 1) as data: entities, their columns and the banned ones."""

from __future__ import annotations

import re

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
}

# Protected attributes are never classified on, whatever a file carries (CONTRACT section 1).
PROTECTED_COLUMNS = frozenset({
    "race", "ethnicity", "ethnic_group", "religion", "religious_affiliation", "faith",
    "sexual_orientation", "orientation", "political_affiliation", "political_party", "politics",
    "民族", "种族", "宗教", "宗教信仰", "性取向", "政治面貌", "政治倾向", "党派",
})

METADATA_COLUMNS = ("_source_file", "_file_hash", "_row_number", "_loaded_at")


def normalise_column(name: str) -> str:
    """Header as written -> the column name used in raw tables (lower case, underscores)."""
    cleaned = name.replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-]+", "_", cleaned)


def is_protected(column: str) -> bool:
    return normalise_column(column) in PROTECTED_COLUMNS


def entity_of(file_name: str) -> str | None:
    """`orders_2026-11-22.csv` -> `orders`; the longest entity name wins (order_items before orders)."""
    lower = file_name.lower()
    if not lower.endswith((".csv", ".parquet")):
        return None
    for entity in sorted(ENTITY_COLUMNS, key=len, reverse=True):
        if lower.startswith(entity):
            return entity
    return None
