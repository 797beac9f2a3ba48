"""k-means clusters of the customers with a completed purchase on the as-of date (orchestration/mining.py): one row
per cluster with its size, label, raw feature means and centre. Too little data leaves one row with a NULL cluster
and the reason."""

import pandas as pd

from orchestration import frames, mining


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt finds a model's refs by reading its calls: a ref inside a longer chain of calls goes unseen
    segmented = dbt.ref("int_customers_segmented")
    buyers = mining.clustered_customers(segmented)
    as_of = frames.to_pandas(dbt.ref("int_as_of_date"))
    fit = mining.fit_clusters(buyers, int(dbt.config.get("k_min")), int(dbt.config.get("k_max")),
                              int(dbt.config.get("sample_size")), int(dbt.config.get("seed")),
                              int(dbt.config.get("min_customers")))
    if fit.reason:
        table = pd.DataFrame([{"cluster": None, "customers": fit.customers, "share_of_customers": None,
                               "label": None, **{f"{prefix}_{name}": None for prefix in ("mean", "z")
                                                for name in mining.CLUSTER_FEATURES}}])
    else:
        table = fit.profiles
    chosen = len(fit.profiles)
    table = table.assign(
        silhouette=fit.silhouettes.get(chosen),
        silhouettes="; ".join(f"k={k}: {value:.4f}" for k, value in fit.silhouettes.items()) or None,
        as_of_date=as_of["as_of_date"].iloc[0].date(),
        reason=fit.reason,
    )
    numbers = [column for column in table.columns if column.startswith(("mean_", "z_"))]
    return table.astype({"cluster": "Int64", "customers": "int64", "share_of_customers": "float64",
                         "label": "string", "silhouette": "float64", "silhouettes": "string", "reason": "string",
                         **dict.fromkeys(numbers, "float64")})
