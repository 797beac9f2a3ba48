"""Great Expectations suites judged once per sample: the same rows give the stored outcome, other rows run GX."""

import json
from dataclasses import asdict

import pandas as pd

from orchestration.quality import validate, validate_once


def orders(statuses: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"O{i}" for i in range(len(statuses))],
        "status": statuses,
        "total_amount": [10.0] * len(statuses),
        "discount_amount": [0.0] * len(statuses),
        "currency": ["CNY"] * len(statuses),
    })


def test_the_same_rows_reuse_the_stored_outcome_and_other_rows_are_validated(tmp_path):
    good = orders(["completed", "pending", "refunded"])
    first = validate_once(good, "accepted_orders", tmp_path)
    assert asdict(first) == asdict(validate(good, "accepted_orders"))
    assert not first.critical_failures

    # plant a different outcome under the stored digest: only a reuse of the stored outcome can return it
    stored = tmp_path / "accepted_orders.json"
    kept = json.loads(stored.read_text())
    kept["outcome"]["description"] = "planted"
    stored.write_text(json.dumps(kept))
    assert validate_once(good.copy(), "accepted_orders", tmp_path).description == "planted"

    # one value changed is other rows: GX runs again and sees the bad status
    bad = good.copy()
    bad.loc[1, "status"] = "lost"
    again = validate_once(bad, "accepted_orders", tmp_path)
    assert again.description != "planted"
    assert [o.column for o in again.critical_failures] == ["status"]


def test_a_damaged_store_is_validated_again(tmp_path):
    frame = orders(["completed"])
    (tmp_path / "accepted_orders.json").write_text("{not json")
    assert not validate_once(frame, "accepted_orders", tmp_path).critical_failures
    assert json.loads((tmp_path / "accepted_orders.json").read_text())["outcome"]["rows_validated"] == 1
