"""Behavioural clusters and the rules that explain segments: planted structure is found, the published rule text
places exactly the customers it claims, and the same rows give the same clusters and rules."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from orchestration import mining
from tests.conftest import bi

# four planted behaviours: (recency_days, frequency, monetary, tenure_days, category_count) around which customers lie
PLANTED = {
    "loyal": (10, 20, 4000, 900, 6),
    "big once": (200, 1, 2500, 400, 1),
    "lapsed": (600, 3, 150, 1000, 2),
    "newcomer": (15, 1, 60, 30, 1),
}


def planted_customers(per_group: int = 300, seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows, groups = [], []
    for group, (recency, frequency, monetary, tenure, categories) in enumerate(PLANTED.values()):
        for _ in range(per_group):
            spread = rng.lognormal(0, 0.15, size=5)
            f = max(1, round(frequency * spread[1]))
            rows.append({"recency_days": round(recency * spread[0]), "frequency": f,
                         "monetary": monetary * spread[2], "tenure_days": round(tenure * spread[3]),
                         "category_count": max(1, round(categories * spread[4]))})
            groups.append(group)
    frame = pd.DataFrame(rows)
    frame["avg_order_value"] = frame["monetary"] / frame["frequency"]
    order = rng.permutation(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "customer_id", [f"C{i:05d}" for i in range(len(frame))])
    return frame, np.asarray(groups)[order]


def test_planted_behaviours_are_found_as_clusters_with_labels_that_read_them():
    customers, groups = planted_customers()
    fit = mining.fit_clusters(customers, 3, 7, 800, 42, 100)
    assert fit.reason is None and len(fit.profiles) == 4
    assert max(fit.silhouettes, key=fit.silhouettes.get) == 4
    assigned = mining.assign(customers, fit.profiles)
    # every planted group is one cluster and no cluster mixes two groups
    assert pd.crosstab(groups, assigned.to_numpy()).gt(0).sum(axis=1).eq(1).all()
    assert assigned.value_counts().sort_index().tolist() == fit.profiles["customers"].tolist() == [300] * 4
    # numbered by spend: the loyal group spends most, the newcomers least
    by_cluster = dict(zip(fit.profiles["cluster"], fit.profiles["label"], strict=True))
    assert set(assigned[groups == 0]) == {1} and set(assigned[groups == 3]) == {4}
    assert "frequent" in by_cluster[1] and "high spend" in by_cluster[1]
    assert "newly signed up" in by_cluster[4] or "low spend" in by_cluster[4]
    assert "lapsed" in by_cluster[dict(zip(groups, assigned, strict=True))[2]]
    assert len(set(by_cluster.values())) == 4


def test_the_same_rows_give_the_same_clusters_and_rules():
    customers, _ = planted_customers(seed=8)
    first, second = (mining.fit_clusters(customers, 3, 6, 500, 42, 100) for _ in range(2))
    pd.testing.assert_frame_equal(first.profiles, second.profiles)
    assert first.silhouettes == second.silhouettes
    explaining = explaining_frame(customers)
    target = pd.Series(np.where(customers["frequency"] >= 4, "many", "few"), name="segment")
    once, again = (mining.explain(explaining, target, 3, 0.01, 1000, 42) for _ in range(2))
    pd.testing.assert_frame_equal(once[0], again[0])
    assert once[1:] == again[1:]


def explaining_frame(customers: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = customers.copy()
    for name in mining.EXPLAINING_FEATURES:
        if name not in frame:
            frame[name] = rng.integers(0, 6, len(frame)).astype(float)
    frame["is_b2b"] = rng.integers(0, 2, len(frame))
    return frame


def test_a_planted_rule_is_read_back_in_whole_numbers_with_missing_values_where_they_went():
    customers, _ = planted_customers(seed=9)
    frame = explaining_frame(customers)
    frame.loc[frame.index % 5 == 0, "sessions"] = np.nan
    target = pd.Series(np.where((frame["frequency"] >= 4) & (frame["sessions"].isna() | (frame["sessions"] > 2)),
                                "engaged", "other"), name="segment")
    rules, fidelity, reason = mining.explain(frame, target, 2, 0.01, 10_000, 42)
    assert reason is None and fidelity == 1.0
    assert set(rules["precision"]) == {1.0}
    assert rules.loc[rules["segment"] == "engaged", "rule"].tolist() == [
        "frequency >= 4 and (sessions unknown or sessions >= 3)"]
    assert rules["customers"].sum() == len(frame)


def test_too_little_data_says_why():
    customers, _ = planted_customers(per_group=10)
    fit = mining.fit_clusters(customers, 3, 8, 500, 42, 100)
    assert fit.profiles.empty and fit.reason == "too few customers with a purchase: 40 (needs 100)"
    same = pd.concat([customers.iloc[:1]] * 200, ignore_index=True)
    assert mining.fit_clusters(same, 3, 8, 500, 42, 100).reason == \
        "fewer distinct behaviours than clusters: 1 (k_max 8)"
    one_segment = pd.Series(["only"] * len(customers), name="business_segment")
    assert mining.explain(explaining_frame(customers), one_segment, 3, 0.01, 1000, 42)[2] == \
        "nothing to explain: 1 segment(s) among 40 customers"
    two_segments = pd.Series(np.where(customers["frequency"] > 2, "many", "few"), name="business_segment")
    assert mining.explain(explaining_frame(customers), two_segments, 3, 0.01, 1000, 42, min_customers=100)[2] == \
        "too few customers to explain: 40 (needs 100)"


def as_sql(rule: str) -> str:
    """The published rule text as a DuckDB condition over customer_segments plus the two derived features."""
    rule = re.sub(r"(\w+) unknown", r"\1 is null", rule)
    rule = re.sub(r"(\w+) known", r"\1 is not null", rule)
    return rule.replace("customer_type = B2B", "is_b2b = 1").replace("customer_type is not B2B", "is_b2b = 0")


def test_the_published_rules_place_exactly_the_customers_they_claim(project):
    with bi(project[0]) as con:
        con.execute("""
            create temp view explained as
            select *, date_diff('day', first_order_date, as_of_date) as days_since_first_order,
                cast(coalesce(customer_type = 'B2B', false) as integer) as is_b2b, cast(cluster as varchar) as c
            from customer_segments""")
        rules = con.execute("select target, segment, rule, customers, correct, fidelity, reason "
                            "from segment_rules_explained order by target, rule_id").fetchall()
        assert {target for target, *_ in rules} == {"cluster", "business_segment"}
        for target, segment, rule, customers, correct, _, reason in rules:
            assert reason is None, reason
            column = "c" if target == "cluster" else target
            counted = con.execute(f"select count(*), count(*) filter (where {column} = ?) from explained "
                                  f"where {column} is not null and {as_sql(rule)}", [segment]).fetchall()[0]
            assert counted == (customers, correct), (target, rule)
        for target in ("cluster", "business_segment"):
            column = "c" if target == "cluster" else target
            held = con.execute(f"select count({column}) from explained").fetchall()[0][0]
            placed = sum(correct for t, _, _, _, correct, _, _ in rules if t == target)
            (fidelity,) = {f for t, *_, f, _ in rules if t == target}
            assert sum(customers for t, _, _, customers, *_ in rules if t == target) == held
            assert fidelity == pytest.approx(placed / held)
        # the business segments follow rules on these features: a depth-3 tree places most customers
        (fidelity,) = {f for t, *_, f, _ in rules if t == "business_segment"}
        assert fidelity > 0.85


def test_every_customer_with_a_purchase_is_in_one_published_cluster(project):
    with bi(project[0]) as con:
        profiles = con.execute("select cluster, customers, label, silhouette, reason from cluster_profiles "
                               "order by cluster").fetchall()
        counted = con.execute("select cluster, count(*) from customer_segments where frequency > 0 "
                              "group by cluster order by cluster").fetchall()
        unclustered = con.execute("select count(*) from customer_segments where frequency = 0 and cluster is not null"
                                  ).fetchall()[0][0]
        means = con.execute("select mean_monetary from cluster_profiles order by cluster").fetchall()
    assert all(reason is None for *_, reason in profiles) and 3 <= len(profiles) <= 8
    assert [(cluster, customers) for cluster, customers, *_ in profiles] == counted
    assert unclustered == 0
    assert means == sorted(means, reverse=True)
    assert len({label for _, _, label, _, _ in profiles}) == len(profiles)
