"""Whether to trust the CLV model on this data: BG/NBD fitted on the history up to clv_backtest_days before the
as-of date, its expected purchase days in the days that followed against the actual ones, per decile of the
expectation and in total (orchestration/clv.py)."""

from datetime import timedelta

from orchestration import clv, frames


def model(dbt, session):
    dbt.config(materialized="table")
    summaries = dbt.ref("int_customer_purchase_summaries")
    summaries = frames.to_pandas(summaries.filter("is_backtest"))
    min_repeat_buyers = int(dbt.config.get("min_repeat_buyers"))
    min_history_days = float(dbt.config.get("min_history_days"))
    backtest_days = int(dbt.config.get("backtest_days"))
    as_of = frames.to_pandas(dbt.ref("int_as_of_date"))
    as_of_date = as_of["as_of_date"].iloc[0].date()
    result = clv.backtest(summaries, min_repeat_buyers, min_history_days / 7, backtest_days / 7)
    result.insert(0, "calibration_end", as_of_date - timedelta(days=backtest_days))
    result.insert(1, "as_of_date", as_of_date)
    return result
