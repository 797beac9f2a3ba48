"""Per customer with a completed purchase on the as-of date: the cluster of cluster_profiles whose centre is
nearest (orchestration/mining.py). Empty when there are no clusters."""

import pandas as pd

from orchestration import frames, mining


def model(dbt, session):
    dbt.config(materialized="table")
    # dbt finds a model's refs by reading its calls: a ref inside a longer chain of calls goes unseen
    segmented = dbt.ref("int_customers_segmented")
    buyers = mining.clustered_customers(segmented)
    profiles = frames.to_pandas(dbt.ref("cluster_profiles"))
    profiles = profiles[profiles["cluster"].notna()]
    if profiles.empty:
        return pd.DataFrame({"customer_id": pd.Series(dtype="string"), "cluster": pd.Series(dtype="Int64")})
    return pd.DataFrame({"customer_id": buyers["customer_id"].astype("string"),
                         "cluster": mining.assign(buyers, profiles).astype("Int64")})
