"""BG/NBD and Gamma-Gamma fitted on the purchase summaries at the as-of date (orchestration/clv.py): one row per
model and parameter. A model without enough data to fit, or whose fit cannot predict every customer, keeps its
rows with a NULL value and the reason."""

import pandas as pd

from orchestration import clv, frames


def model(dbt, session):
    dbt.config(materialized="table")
    summaries = dbt.ref("int_customer_purchase_summaries")
    summaries = frames.to_pandas(summaries.filter("not is_backtest"))
    # dbt finds a model's refs by reading its calls: a ref inside a longer chain of calls goes unseen
    as_of = frames.to_pandas(dbt.ref("int_as_of_date"))
    as_of_date = as_of["as_of_date"].iloc[0].date()
    min_repeat_buyers = int(dbt.config.get("min_repeat_buyers"))
    min_history_days = float(dbt.config.get("min_history_days"))
    horizons = clv.prediction_horizons(int(dbt.config.get("prediction_months")))
    fits = clv.fit_models(summaries, min_repeat_buyers, min_history_days / 7, horizons)
    rows = [
        {"model": fit.model, "parameter": name,
         "value": fit.parameters[name] if fit.parameters else None,
         "log_likelihood": fit.log_likelihood, "customers": fit.customers, "as_of_date": as_of_date,
         "reason": fit.reason}
        for fit in fits for name in clv.PARAMETERS[fit.model]
    ]
    return pd.DataFrame(rows).astype({"value": "float64", "log_likelihood": "float64", "customers": "int64",
                                      "reason": "string"})
