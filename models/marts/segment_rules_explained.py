"""Plain rules that explain who is in which cluster and in which segment of each segments.yml dimension
(orchestration/mining.py): one row per target and leaf of a shallow decision tree on raw feature values, with the
share of customers the rules place correctly (fidelity). A target that cannot be explained keeps one row with a NULL
rule and the reason."""

import pandas as pd

from orchestration import frames, mining


def model(dbt, session):
    dbt.config(materialized="table")
    dimensions = [name for name in str(dbt.config.get("dimensions")).split(",") if name]
    # dbt finds a model's refs by reading its calls: a ref inside a longer chain of calls goes unseen
    segmented = dbt.ref("int_customers_segmented")
    customers = mining.explained_customers(segmented, dimensions)
    clusters = frames.to_pandas(dbt.ref("customer_clusters"))
    as_of = frames.to_pandas(dbt.ref("int_as_of_date"))
    customers = customers.merge(clusters, on="customer_id", how="left", validate="one_to_one")
    customers["cluster"] = customers["cluster"].astype("Int64").astype("string")
    tables = []
    for target in ["cluster", *dimensions]:
        rules, fidelity, reason = mining.explain(
            customers, customers[target], int(dbt.config.get("max_depth")), float(dbt.config.get("min_leaf_share")),
            int(dbt.config.get("sample_size")), int(dbt.config.get("seed")), int(dbt.config.get("min_customers")))
        if reason:
            rules = pd.DataFrame([{"rule": None, "segment": None, "customers": int(customers[target].notna().sum()),
                                   "correct": None, "precision": None}])
        tables.append(rules.assign(target=target, rule_id=range(1, len(rules) + 1), fidelity=fidelity, reason=reason))
    table = pd.concat(tables, ignore_index=True).assign(as_of_date=as_of["as_of_date"].iloc[0].date())
    columns = ["target", "rule_id", "segment", "rule", "customers", "correct", "precision", "fidelity", "as_of_date",
               "reason"]
    return table[columns].astype({"target": "string", "rule_id": "int64", "segment": "string", "rule": "string",
                                  "customers": "int64", "correct": "Int64", "precision": "float64",
                                  "fidelity": "float64", "reason": "string"})
