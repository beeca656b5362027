"""Freshness checks warn when a source's latest loaded extract is older than its threshold."""

from datetime import date

import polars as pl

from orchestration.freshness import latest_extract_date
from ward.settings import Settings


def _ledger(settings: Settings, rows: list[tuple[str, str, date]]) -> None:
    settings.ledger_path.parent.mkdir(parents=True)
    pl.DataFrame(rows, schema=["source", "status", "extract_date"], orient="row").write_parquet(
        settings.ledger_path
    )


def test_thresholds_come_from_the_environment(tmp_path):
    settings = Settings.from_env({"WARD_DATA_DIR": str(tmp_path), "WARD_FRESHNESS_CITIZENS_DAYS": "10"})
    assert dict(settings.freshness_days) == {"citizens": 10, "service_records": 2}


def test_latest_loaded_extract_ignores_rejected_files(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert latest_extract_date(settings, "citizens") is None
    _ledger(
        settings, [("citizens", "loaded", date(2026, 10, 1)), ("citizens", "rejected", date(2026, 11, 1))]
    )
    assert latest_extract_date(settings, "citizens") == date(2026, 10, 1)
