"""The Storage page's words for space: sizes, a cap, the forecast."""

from __future__ import annotations

from mirix_desktop.app.retention import SpaceForecast
from mirix_desktop.app.space import cap_words, days_words, forecast_words, size_words
from mirix_desktop.config import Settings, StorageSettings


def capped(max_gb: float) -> Settings:
    return Settings(storage=StorageSettings(max_gb=max_gb))


def forecast(per_day: float | None, days: float | None) -> SpaceForecast:
    return SpaceForecast(
        bytes_used=2_000_000_000, bytes_per_day=per_day, days_until_cap=days, free_bytes=1
    )


def test_sizes_and_caps_read_plainly() -> None:
    assert size_words(3_210_000_000) == "3.2 GB"
    assert size_words(41_000_000) == "41.0 MB"
    assert size_words(12_345) == "12 kB"
    assert cap_words(5) == "5 GB" and cap_words(2.5) == "2.5 GB" and cap_words(1000) == "1,000 GB"
    assert cap_words(0.3) == "300 MB"
    assert days_words(0.4) == "less than a day" and days_words(95.2) == "about 95 days"


def test_the_forecast_names_the_days_until_the_cap() -> None:
    assert forecast_words(forecast(40e6, 95.2), capped(5)) == (
        "About 40.0 MB a day; at this rate the 5 GB cap is reached in about 95 days."
    )
    assert forecast_words(forecast(40e6, None), capped(0)) == (
        "About 40.0 MB a day; no space cap is set."
    )
    assert forecast_words(forecast(None, None), capped(5)) == (
        "Too little is recorded yet to tell how fast the memories file grows."
    )
    assert forecast_words(forecast(0.0, None), capped(5)).startswith("Nothing was recorded")
    assert forecast_words(forecast(40e6, 0.0), capped(2)).startswith(
        "The memories file has reached the 2 GB cap"
    )
