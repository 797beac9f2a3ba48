from datetime import date
from pathlib import Path

import pytest

from orchestration.settings import DEFAULTS, Settings, SettingsError


def test_defaults_need_no_environment(monkeypatch, tmp_path):
    for key in DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env()
    assert settings.landing_dir == tmp_path / "data" / "landing"
    assert settings.warehouse.parent == tmp_path / "data"
    assert settings.publish_dir.parent == tmp_path / "data"
    assert settings.max_reject_rate == 0.05
    assert settings.reporting_currency == "CNY"
    assert settings.as_of is None


def test_values_from_environment_and_dotenv(monkeypatch, tmp_path):
    for key in DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text("SEGMENTS_AS_OF=2026-01-31\nSEGMENTS_REPORTING_CURRENCY=usd\n")
    monkeypatch.setenv("SEGMENTS_MAX_REJECT_RATE", "0.2")
    settings = Settings.from_env()
    assert settings.as_of == date(2026, 1, 31)
    assert settings.reporting_currency == "USD"
    assert settings.max_reject_rate == 0.2


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("SEGMENTS_AS_OF", "31/01/2026", "SEGMENTS_AS_OF must be a date YYYY-MM-DD"),
        ("SEGMENTS_MAX_REJECT_RATE", "five", "SEGMENTS_MAX_REJECT_RATE must be a number"),
        ("SEGMENTS_MAX_REJECT_RATE", "1.5", "between 0 and 1"),
        ("SEGMENTS_REPORTING_CURRENCY", "yuan", "ISO-4217"),
        ("SEGMENTS_KEEP_PUBLICATIONS", "0", "SEGMENTS_KEEP_PUBLICATIONS must be a whole number"),
    ],
)
def test_bad_values_are_named_in_one_line(monkeypatch, tmp_path, key, value, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=message) as error:
        Settings.from_env()
    assert "\n" not in str(error.value)
