"""Freshness checks warn when a source's latest loaded extract is older than its threshold."""

from datetime import date, timedelta

import polars as pl

from orchestration.freshness import build_freshness_checks, latest_extract_date
from orchestration.resources import WardResource
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


def test_check_warns_when_stale_and_passes_when_fresh(tmp_path):
    settings = Settings(data_dir=tmp_path, freshness_days=(("citizens", 35), ("service_records", 2)))
    today = date.today()
    _ledger(
        settings,
        [
            ("citizens", "loaded", today - timedelta(days=3)),
            ("service_records", "loaded", today - timedelta(days=9)),
        ],
    )
    checks = {next(iter(c.check_keys)).name: c for c in build_freshness_checks(settings)}
    ward = WardResource.from_settings(settings)
    assert checks["citizens_fresh"](ward=ward).passed
    stale = checks["service_records_fresh"](ward=ward)
    assert not stale.passed and stale.metadata["age_days"].value == 9
