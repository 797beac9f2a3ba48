import pytest

from orchestration.contract import entity_of, is_protected, normalise_column
from orchestration.publish import pii_columns


@pytest.mark.parametrize(
    ("file_name", "entity"),
    [
        ("customers.csv", "customers"),
        ("orders_2026-11-22.csv", "orders"),
        ("ORDERS_2025.parquet", "orders"),
        ("order_items.csv", "order_items"),
        ("order_items_2026.parquet", "order_items"),
        ("products.csv", "products"),
        ("orders.txt", None),
        ("readme.csv", None),
    ],
)
def test_entity_of_file_name(file_name, entity):
    assert entity_of(file_name) == entity


def test_headers_normalise():
    assert normalise_column("\ufeff Customer ID ") == "customer_id"
    assert normalise_column("signup-ts") == "signup_ts"


@pytest.mark.parametrize(
    "column", ["race", "Ethnicity", "religion", "Sexual Orientation", "political_affiliation", "民族", "宗教"])
def test_protected_attributes_are_recognised(column):
    assert is_protected(column)


@pytest.mark.parametrize("column", ["region", "occupation", "gender", "interests"])
def test_ordinary_columns_are_not_protected(column):
    assert not is_protected(column)


def test_identifying_columns_are_caught_and_others_pass():
    columns = ["customer_id", "name", "email", "phone", "street_address", "customer_name", "city",
               "rfm_segment", "channel", "product_name", "mobile_number", "姓名"]
    assert pii_columns(columns) == ["name", "email", "phone", "street_address", "customer_name",
                                    "mobile_number", "姓名"]
