"""Per person with a completed purchase: P(alive), expected purchases in the next 90 and 365 days, and the
discounted CLV of the next months from the fitted models (clv_model_fit; orchestration/clv.py)."""

from orchestration import clv, frames


def model(dbt, session):
    dbt.config(materialized="table")
    summaries = dbt.ref("int_customer_purchase_summaries")
    summaries = frames.to_pandas(summaries.filter("not is_backtest"))
    fits = frames.to_pandas(dbt.ref("clv_model_fit"))
    months = int(dbt.config.get("prediction_months"))
    monthly_discount_rate = float(dbt.config.get("monthly_discount_rate"))
    return clv.predict(summaries, fits, months, monthly_discount_rate)
