"""The one place where configuration is read: environment variables (or a .env file) with defaults."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    "SEGMENTS_LANDING_DIR": "data/landing",
    "SEGMENTS_WAREHOUSE": "data/warehouse.duckdb",
    "SEGMENTS_PUBLISH_DIR": "data/publish",
    "SEGMENTS_MAX_REJECT_RATE": "0.05",
    "SEGMENTS_REPORTING_CURRENCY": "CNY",
    "SEGMENTS_AS_OF": "",
    "SEGMENTS_KEEP_PUBLICATIONS": "3",
    "SEGMENTS_RULES_FILE": "",
    "SEGMENTS_MEMORY_LIMIT": "4GB",
    "SEGMENTS_THREADS": "",
    "SEGMENTS_TEMP_DIR": "",
    "SEGMENTS_MAX_TEMP_SIZE": "",
    "SEGMENTS_PSEUDONYM_KEY": "",
    "SEGMENTS_LOCK_WAIT_SECONDS": "0",
    "SEGMENTS_ENGINE": "duckdb",
    "SEGMENTS_SPARK_DIR": "",
}

HELP = {
    "SEGMENTS_LANDING_DIR": "landing zone holding <entity>*.csv / *.parquet files",
    "SEGMENTS_WAREHOUSE": "DuckDB file the pipeline builds (never point BI at it)",
    "SEGMENTS_PUBLISH_DIR": "where bi.duckdb and current/<table>.parquet are published",
    "SEGMENTS_MAX_REJECT_RATE": "largest quarantined share per entity before a run fails",
    "SEGMENTS_REPORTING_CURRENCY": "currency of every published amount",
    "SEGMENTS_AS_OF": "as-of date YYYY-MM-DD (blank: the latest order date found)",
    "SEGMENTS_KEEP_PUBLICATIONS": "how many complete publications to keep under releases/",
    "SEGMENTS_RULES_FILE": "segment and tag rules (blank: segments.yml of the project)",
    "SEGMENTS_MEMORY_LIMIT": "memory cap of every DuckDB connection (loader, dbt, checks, publish)",
    "SEGMENTS_THREADS": "DuckDB threads per connection (blank: one per core)",
    "SEGMENTS_TEMP_DIR": "where DuckDB spills beyond the memory cap (blank: tmp/ beside the warehouse)",
    "SEGMENTS_MAX_TEMP_SIZE": "largest spill DuckDB may write, e.g. 50GB (blank: DuckDB's 90% of free disk)",
    "SEGMENTS_PSEUDONYM_KEY": "secret of the keyed hash that replaces name, email and phone (blank: a demo key)",
    "SEGMENTS_LOCK_WAIT_SECONDS": "how long a second run waits for the one holding the lock before giving up",
    "SEGMENTS_ENGINE": "the engine dbt builds on: duckdb, or spark (a local session; a Thrift server when "
                       "SEGMENTS_SPARK_HOST is set)",
    "SEGMENTS_SPARK_DIR": "Spark's warehouse, metastore and the raw tables handed to it (blank: spark/ beside the "
                          "warehouse)",
}

# Only for demos: `segments run` warns while this is the key in use.
DEMO_PSEUDONYM_KEY = "segments-demo-key-do-not-use-in-production"


class SettingsError(ValueError):
    """A configuration value that cannot be used."""


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse: Path
    publish_dir: Path
    max_reject_rate: float
    reporting_currency: str
    as_of: date | None
    keep_publications: int
    rules_file: Path
    memory_limit: str
    threads: int
    temp_dir: Path
    max_temp_size: str
    pseudonym_key: str
    lock_wait_seconds: int
    engine: str = "duckdb"
    spark_dir: Path = PROJECT_ROOT / "data" / "spark"
    dbt_target: str = "local"

    @property
    def uses_demo_key(self) -> bool:
        return self.pseudonym_key == DEMO_PSEUDONYM_KEY

    @classmethod
    def from_env(cls) -> Settings:
        load_dotenv(Path.cwd() / ".env", override=False)
        return cls.from_mapping(os.environ)

    @classmethod
    def from_mapping(cls, environ: Mapping[str, str]) -> Settings:
        """The settings an environment holds (a child process's, say), read as from_env reads this one's."""
        # A blank value means "not set", as in a .env file with `SEGMENTS_AS_OF=`.
        raw = {key: environ.get(key, "").strip() or default for key, default in DEFAULTS.items()}
        warehouse = _path(raw["SEGMENTS_WAREHOUSE"])
        pseudonym_key = raw["SEGMENTS_PSEUDONYM_KEY"] or DEMO_PSEUDONYM_KEY
        engine = _engine(raw["SEGMENTS_ENGINE"], pseudonym_key)
        # profiles.yml: the engine's target, and on Spark a Thrift server when one is named
        dbt_target = ("local" if engine == "duckdb" else
                      "spark_thrift" if environ.get("SEGMENTS_SPARK_HOST", "").strip() else "spark_local")
        return cls(
            landing_dir=_path(raw["SEGMENTS_LANDING_DIR"]),
            warehouse=warehouse,
            publish_dir=_path(raw["SEGMENTS_PUBLISH_DIR"]),
            max_reject_rate=_rate(raw["SEGMENTS_MAX_REJECT_RATE"]),
            reporting_currency=_currency(raw["SEGMENTS_REPORTING_CURRENCY"]),
            as_of=_as_of(raw["SEGMENTS_AS_OF"]),
            keep_publications=_positive_int("SEGMENTS_KEEP_PUBLICATIONS", raw["SEGMENTS_KEEP_PUBLICATIONS"]),
            rules_file=_path(raw["SEGMENTS_RULES_FILE"] or str(PROJECT_ROOT / "segments.yml")),
            memory_limit=_size("SEGMENTS_MEMORY_LIMIT", raw["SEGMENTS_MEMORY_LIMIT"]),
            threads=_positive_int("SEGMENTS_THREADS", raw["SEGMENTS_THREADS"] or str(os.cpu_count() or 1)),
            temp_dir=_path(raw["SEGMENTS_TEMP_DIR"] or str(warehouse.parent / "tmp")),
            max_temp_size=_size("SEGMENTS_MAX_TEMP_SIZE", raw["SEGMENTS_MAX_TEMP_SIZE"]) if raw[
                "SEGMENTS_MAX_TEMP_SIZE"] else "",
            pseudonym_key=pseudonym_key,
            lock_wait_seconds=_whole_number("SEGMENTS_LOCK_WAIT_SECONDS", raw["SEGMENTS_LOCK_WAIT_SECONDS"]),
            engine=engine,
            spark_dir=_path(raw["SEGMENTS_SPARK_DIR"] or str(warehouse.parent / "spark")),
            dbt_target=dbt_target,
        )

    def export_to_environ(self) -> None:
        """Write the resolved values back so that child processes (dbt) see exactly these."""
        os.environ["SEGMENTS_WAREHOUSE"] = str(self.warehouse)
        os.environ["SEGMENTS_REPORTING_CURRENCY"] = self.reporting_currency
        os.environ["SEGMENTS_MEMORY_LIMIT"] = self.memory_limit
        os.environ["SEGMENTS_THREADS"] = str(self.threads)
        os.environ["SEGMENTS_TEMP_DIR"] = str(self.temp_dir)
        os.environ["SEGMENTS_MAX_TEMP_SIZE"] = self.max_temp_size
        os.environ["SEGMENTS_PSEUDONYM_KEY"] = self.pseudonym_key
        os.environ["SEGMENTS_DBT_TARGET"] = self.dbt_target
        os.environ["SEGMENTS_SPARK_DIR"] = str(self.spark_dir)

    def duckdb_config(self) -> dict[str, str | int]:
        """Limits of every DuckDB connection the pipeline opens (the dbt profile reads the same values)."""
        config: dict[str, str | int] = {
            "memory_limit": self.memory_limit, "threads": self.threads, "temp_directory": str(self.temp_dir)}
        if self.max_temp_size:
            config["max_temp_directory_size"] = self.max_temp_size
        return config


def _path(value: str) -> Path:
    return Path(value).expanduser().resolve()


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise SettingsError(f"SEGMENTS_MAX_REJECT_RATE must be a number, got {value!r}") from None
    if not 0 <= rate <= 1:
        raise SettingsError(f"SEGMENTS_MAX_REJECT_RATE must be between 0 and 1, got {value!r}")
    return rate


def _currency(value: str) -> str:
    code = value.upper()
    if len(code) != 3 or not code.isalpha():
        raise SettingsError(f"SEGMENTS_REPORTING_CURRENCY must be an ISO-4217 code, got {value!r}")
    return code


def _engine(value: str, pseudonym_key: str) -> str:
    engine = value.lower()
    if engine not in ("duckdb", "spark"):
        raise SettingsError(f"SEGMENTS_ENGINE must be duckdb or spark, got {value!r}")
    if engine == "spark":
        from orchestration.spark import UNSAFE_KEY_CHARACTERS, missing_requirement

        if reason := missing_requirement():
            raise SettingsError(f"SEGMENTS_ENGINE=spark cannot start: {reason}")
        if set(pseudonym_key) & set(UNSAFE_KEY_CHARACTERS):
            raise SettingsError(f"SEGMENTS_PSEUDONYM_KEY must hold none of {' '.join(UNSAFE_KEY_CHARACTERS)} on "
                                "SEGMENTS_ENGINE=spark (Spark substitutes it into a SQL string literal)")
    return engine


def _as_of(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"SEGMENTS_AS_OF must be a date YYYY-MM-DD, got {value!r}") from None


def _size(name: str, value: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip(), flags=re.IGNORECASE):
        raise SettingsError(f"{name} must be a size such as 4GB or 512MB, got {value!r}")
    return value.strip()


def _whole_number(name: str, value: str) -> int:
    if not value.isdigit():
        raise SettingsError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def _positive_int(name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)
