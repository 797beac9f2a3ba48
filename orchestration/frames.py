"""dbt Python models' inputs as pandas DataFrames, alike on DuckDB and on Spark."""

from __future__ import annotations

import pandas as pd


def to_pandas(relation) -> pd.DataFrame:
    """A relation dbt hands a Python model (a DuckDB relation, or a Spark DataFrame) as pandas, typed as DuckDB's
    `.df()` types it: dates as datetime64, decimals as float64."""
    if not hasattr(relation, "toPandas"):
        return relation.df()
    from pyspark.sql.types import DateType, DecimalType

    frame = relation.toPandas()
    for field in relation.schema.fields:
        if isinstance(field.dataType, DateType):
            frame[field.name] = pd.to_datetime(frame[field.name])
        elif isinstance(field.dataType, DecimalType):
            frame[field.name] = frame[field.name].astype("float64")
    return frame


def select(relation, columns: list[str], where: str, order_by: str) -> pd.DataFrame:
    """The named columns of the rows of `relation` that meet `where` (SQL both engines read alike), in
    `order_by` order, as pandas."""
    if hasattr(relation, "toPandas"):
        return to_pandas(relation.filter(where).select(*columns).orderBy(order_by))
    return relation.filter(where).project(", ".join(f'"{name}"' for name in columns)).order(order_by).df()
