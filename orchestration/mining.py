"""Behavioural clusters and the plain rules that explain segment membership (DECISIONS.md).

Clusters: k-means on log-standardised purchase behaviour of the customers with a completed purchase, with k chosen by
the silhouette on a seeded sample within a configured range. Clusters are numbered by spend (1 spends most on
average), so the same data gives the same numbers. Explanation: a shallow decision tree per target (cluster,
business_segment) on raw feature values, read out as one rule per leaf, with its fidelity (the share of customers
that the rules place in their actual segment)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration import frames

# the behaviour clustered: how lately, how often, how much, how much at a time, how long known, how broadly
CLUSTER_FEATURES = ("recency_days", "frequency", "monetary", "avg_order_value", "tenure_days", "category_count")
# how a cluster centre reads when it lies half a standard deviation or more above / below the average
WORDS = {
    "recency_days": ("lapsed", "recent"),
    "frequency": ("frequent", "infrequent"),
    "monetary": ("high spend", "low spend"),
    "avg_order_value": ("large orders", "small orders"),
    "tenure_days": ("long-standing", "newly signed up"),
    "category_count": ("many categories", "few categories"),
}
NOTABLE = 0.5
# what the explanation trees may split on: raw values an analyst can check in customer_segments
EXPLAINING_FEATURES = (
    "recency_days", "frequency", "monetary", "avg_order_value", "tenure_days", "days_since_first_order",
    "category_count", "orders_placed", "cancelled_orders", "refunded_orders", "sessions", "page_views",
    "referrals_made", "latest_nps", "is_b2b",
)
INTEGER_FEATURES = frozenset(EXPLAINING_FEATURES) - {"monetary", "avg_order_value"}


def clustered_customers(segmented) -> pd.DataFrame:
    """The customers that are clustered, with their clustering features, in customer_id order: the current rows
    of int_customers_segmented (a DuckDB relation or a Spark DataFrame) with a completed purchase."""
    return frames.select(segmented, ["customer_id", *CLUSTER_FEATURES], "is_current and frequency > 0", "customer_id")


def explained_customers(segmented, dimensions: list[str]) -> pd.DataFrame:
    """Every current customer of int_customers_segmented (a DuckDB relation or a Spark DataFrame) with the
    EXPLAINING_FEATURES and the segment of each of `dimensions`, in customer_id order."""
    derived = {"days_since_first_order": ["first_order_date", "snapshot_date"], "is_b2b": ["customer_type"]}
    read = list(dict.fromkeys(
        column for name in EXPLAINING_FEATURES for column in derived.get(name, [name]) if column not in dimensions))
    customers = frames.select(segmented, ["customer_id", *read, *dimensions], "is_current", "customer_id")
    customers["days_since_first_order"] = (customers["snapshot_date"] - customers["first_order_date"]).dt.days
    customers["is_b2b"] = (customers["customer_type"] == "B2B").fillna(False).astype("int32")
    return customers[["customer_id", *EXPLAINING_FEATURES, *dimensions]]


@dataclass(frozen=True)
class Clusters:
    """A k-means fit: per cluster its size, raw feature means and centre in log-standardised units, or why there is
    none (`profiles` is then empty)."""

    profiles: pd.DataFrame
    silhouettes: dict[int, float]
    customers: int
    reason: str | None = None


def log_standardised(features: pd.DataFrame) -> np.ndarray:
    """log(1 + x) of each clustering feature (negatives as 0), centred and scaled to unit variance; a missing value
    is the feature's median, a constant feature is 0."""
    logged = np.log1p(features[list(CLUSTER_FEATURES)].astype(float).clip(lower=0))
    logged = logged.fillna(logged.median()).fillna(0.0).to_numpy()
    spread = logged.std(axis=0)
    return (logged - logged.mean(axis=0)) / np.where(spread > 0, spread, 1.0)


def fit_clusters(features: pd.DataFrame, k_min: int, k_max: int, sample_size: int, seed: int,
                 min_customers: int) -> Clusters:
    """k-means on the customers of `features` (one row per customer with a completed purchase, sorted by
    customer_id), k the best silhouette of k_min..k_max on a seeded sample (the smaller k on a tie)."""
    customers = len(features)
    if customers < max(min_customers, k_max * 2):
        return Clusters(pd.DataFrame(), {}, customers,
                        f"too few customers with a purchase: {customers} (needs {max(min_customers, k_max * 2)})")
    points = log_standardised(features)
    if len(np.unique(points, axis=0)) < k_max:
        return Clusters(pd.DataFrame(), {}, customers,
                        f"fewer distinct behaviours than clusters: {len(np.unique(points, axis=0))} (k_max {k_max})")
    # imported here: a run without enough data pays nothing for scikit-learn (~3 s of every small run)
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    sample = points[np.sort(rng.choice(customers, size=min(sample_size, customers), replace=False))]
    # one thread: the same sums in the same order, so the same centres on any machine
    with threadpool_limits(1):
        silhouettes = {}
        for k in range(k_min, k_max + 1):
            labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(sample)
            silhouettes[k] = float(silhouette_score(sample, labels)) if len(set(labels)) > 1 else -1.0
        k = max(silhouettes, key=lambda candidate: (round(silhouettes[candidate], 12), -candidate))
        centres = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(points).cluster_centers_
    return Clusters(profiles(features, points, centres), silhouettes, customers)


def nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The index of each point's nearest centre (the k-means assignment), 100k points at a time."""
    return np.concatenate([((chunk[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
                           for chunk in np.array_split(points, max(1, len(points) // 100_000))])


def profiles(features: pd.DataFrame, points: np.ndarray, centres: np.ndarray) -> pd.DataFrame:
    """One row per cluster, numbered by mean spend (highest first): size, share, label, raw feature means and the
    centre in log-standardised units (z_*: standard deviations from the average)."""
    frame = features[list(CLUSTER_FEATURES)].astype(float).assign(label=nearest(points, centres))
    table = frame.groupby("label")[list(CLUSTER_FEATURES)].mean().rename(columns=lambda name: f"mean_{name}")
    table = table.join(pd.DataFrame(centres, columns=[f"z_{name}" for name in CLUSTER_FEATURES]))
    table = table.sort_values(["mean_monetary", "mean_frequency"], ascending=False, kind="stable")
    table.insert(0, "cluster", np.arange(1, len(table) + 1))
    table.insert(1, "customers", frame.groupby("label").size().loc[table.index].astype("int64"))
    table.insert(2, "share_of_customers", table["customers"] / len(frame))
    table.insert(3, "label", labels_for(table))
    return table.reset_index(drop=True)


def labels_for(table: pd.DataFrame) -> list[str]:
    """Each cluster in words: its (up to three) most distinctive features, each half a standard deviation or more
    from the average; more words, then the number, where two clusters would read the same."""
    ranked = []
    for _, row in table.iterrows():
        notable = sorted(((abs(row[f"z_{name}"]), -index, name) for index, name in enumerate(CLUSTER_FEATURES)
                          if abs(row[f"z_{name}"]) >= NOTABLE), reverse=True)
        ranked.append([WORDS[name][0 if row[f"z_{name}"] > 0 else 1] for _, _, name in notable] or ["average"])
    labels = [", ".join(words[:3]) for words in ranked]
    for index, words in enumerate(ranked):
        if labels.count(labels[index]) > 1:
            labels[index] = ", ".join(words)
    return [label if labels.count(label) == 1 else f"{label} ({cluster})"
            for cluster, label in zip(table["cluster"], labels, strict=True)]


def assign(features: pd.DataFrame, profiles_table: pd.DataFrame) -> pd.Series:
    """Each customer's cluster: the nearest centre of `profiles_table` in log-standardised units. On the customers
    that were clustered, this is the assignment the profiles were counted from."""
    centres = profiles_table[[f"z_{name}" for name in CLUSTER_FEATURES]].to_numpy(dtype=float)
    clusters = profiles_table["cluster"].to_numpy()
    return pd.Series(clusters[nearest(log_standardised(features), centres)], index=features.index)


def explain(features: pd.DataFrame, target: pd.Series, max_depth: int, min_leaf_share: float, sample_size: int,
            seed: int, min_customers: int = 0) -> tuple[pd.DataFrame, float | None, str | None]:
    """A decision tree of `max_depth` on EXPLAINING_FEATURES, grown on a seeded sample of up to `sample_size`
    customers, that places customers in `target`: one rule per leaf (segment, customers, correct, precision over all
    customers), with its fidelity (the share placed correctly); or why there is none."""
    known = target.notna()
    features, target = features.loc[known], target.loc[known].astype(str)
    if target.empty:
        return pd.DataFrame(), None, f"nothing to explain: no customer has a {target.name}"
    if len(target) < min_customers:
        return pd.DataFrame(), None, f"too few customers to explain: {len(target)} (needs {min_customers})"
    if target.nunique() < 2:
        return pd.DataFrame(), None, f"nothing to explain: {target.nunique()} segment(s) among {len(target)} customers"
    from sklearn.tree import DecisionTreeClassifier  # imported here for the same reason as in fit_clusters

    values = features[list(EXPLAINING_FEATURES)].astype(float)
    grown = np.sort(np.random.default_rng(seed).choice(len(values), size=min(sample_size, len(values)), replace=False))
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=max(1, int(min_leaf_share * len(grown))),
                                  random_state=seed).fit(values.to_numpy()[grown], target.to_numpy()[grown])
    leaves = tree.apply(values.to_numpy())
    placed = tree.classes_[tree.tree_.value[leaves, 0].argmax(axis=1)]
    correct = placed == target.to_numpy()
    rows = []
    for leaf, conditions in rules_of(tree, values).items():
        members = leaves == leaf
        segment = tree.classes_[tree.tree_.value[leaf, 0].argmax()]
        rows.append({"rule": conditions, "segment": segment, "customers": int(members.sum()),
                     "correct": int(correct[members].sum())})
    table = pd.DataFrame(rows)
    table = table[table["customers"] > 0].sort_values(["segment", "customers", "rule"], ascending=[True, False, True])
    table["precision"] = table["correct"] / table["customers"]
    return table.reset_index(drop=True), float(correct.mean()), None


def rules_of(tree, values: pd.DataFrame) -> dict[int, str]:
    """Each leaf's path as one condition per feature ("frequency >= 4 and monetary <= 1200.50"); a feature with
    missing values says where they went ("sessions unknown or <= 2")."""
    structure, names = tree.tree_, list(values.columns)
    has_missing = values.isna().any().to_dict()
    rules: dict[int, str] = {}

    def walk(node: int, bounds: dict[str, list]) -> None:
        if structure.children_left[node] == -1:
            rules[node] = " and ".join(condition(name, *bounds[name]) for name in names if name in bounds) or "always"
            return
        name, threshold = names[structure.feature[node]], float(structure.threshold[node])
        low, high, missing = bounds.get(name, [None, None, has_missing[name]])
        if not np.isfinite(threshold):
            # known values on the left, missing ones on the right
            walk(structure.children_left[node], {**bounds, name: [low, high, False]})
            walk(structure.children_right[node], {**bounds, name: [low, high, "only"]})
            return
        missing_left = bool(structure.missing_go_to_left[node]) if has_missing[name] else None
        for child, side in ((structure.children_left[node], "le"), (structure.children_right[node], "gt")):
            low, high, missing = bounds.get(name, [None, None, has_missing[name]])
            goes = missing is True and missing_left == (side == "le")
            if side == "le":
                high = threshold if high is None else min(high, threshold)
            else:
                low = threshold if low is None else max(low, threshold)
            walk(child, {**bounds, name: [low, high, goes]})

    walk(0, {})
    return rules


def condition(name: str, low: float | None, high: float | None, missing: bool | str) -> str:
    """One feature's bounds in words: integer features as whole numbers (> 3.5 is >= 4)."""
    if missing == "only":
        return f"{name} unknown"
    if low is None and high is None:
        return f"{name} known"
    if name == "is_b2b":
        text = "customer_type = B2B" if low is not None else "customer_type is not B2B"
    elif name in INTEGER_FEATURES:
        parts = ([f"{name} >= {int(np.floor(low)) + 1}"] if low is not None else []) + (
            [f"{name} <= {int(np.floor(high))}"] if high is not None else [])
        text = " and ".join(parts)
    else:
        parts = ([f"{name} > {low:.2f}"] if low is not None else []) + (
            [f"{name} <= {high:.2f}"] if high is not None else [])
        text = " and ".join(parts)
    return f"({name} unknown or {text})" if missing else text
