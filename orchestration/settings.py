"""The one place where configuration is read: environment variables (or a .env file) with defaults."""

from __future__ import annotations

import os
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
}


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

    @classmethod
    def from_env(cls) -> Settings:
        load_dotenv(Path.cwd() / ".env", override=False)
        # A blank value means "not set", as in a .env file with `SEGMENTS_AS_OF=`.
        raw = {key: os.environ.get(key, "").strip() or default for key, default in DEFAULTS.items()}
        return cls(
            landing_dir=_path(raw["SEGMENTS_LANDING_DIR"]),
            warehouse=_path(raw["SEGMENTS_WAREHOUSE"]),
            publish_dir=_path(raw["SEGMENTS_PUBLISH_DIR"]),
            max_reject_rate=_rate(raw["SEGMENTS_MAX_REJECT_RATE"]),
            reporting_currency=_currency(raw["SEGMENTS_REPORTING_CURRENCY"]),
            as_of=_as_of(raw["SEGMENTS_AS_OF"]),
            keep_publications=_positive_int("SEGMENTS_KEEP_PUBLICATIONS", raw["SEGMENTS_KEEP_PUBLICATIONS"]),
            rules_file=_path(raw["SEGMENTS_RULES_FILE"] or str(PROJECT_ROOT / "segments.yml")),
        )

    def export_to_environ(self) -> None:
        """Write the resolved values back so that child processes (dbt) see exactly these."""
        os.environ["SEGMENTS_WAREHOUSE"] = str(self.warehouse)
        os.environ["SEGMENTS_REPORTING_CURRENCY"] = self.reporting_currency


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


def _as_of(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"SEGMENTS_AS_OF must be a date YYYY-MM-DD, got {value!r}") from None


def _positive_int(name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)
