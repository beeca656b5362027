"""Freshness: warn when a source's latest loaded extract is older than its threshold.

Thresholds come from ward.settings (WARD_FRESHNESS_CITIZENS_DAYS, default 35;
WARD_FRESHNESS_SERVICE_RECORDS_DAYS, default 2). The age is also in mart_data_quality as
song/days_since_latest_extract.
"""

from datetime import date

import dagster as dg
import polars as pl

from assets.ingest import LANDING_KEYS
from orchestration.resources import WardResource
from ward.settings import Settings


def latest_extract_date(settings: Settings, source: str) -> date | None:
    if not settings.ledger_path.exists():
        return None
    ledger = pl.read_parquet(settings.ledger_path)
    loaded = ledger.filter((pl.col("source") == source) & (pl.col("status") == "loaded"))
    return loaded["extract_date"].max() if loaded.height else None


def _freshness_check(source: str, max_days: int) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=LANDING_KEYS[source],
        name=f"{source}_fresh",
        description=f"The latest {source} extract is at most {max_days} days old.",
    )
    def fresh(ward: WardResource) -> dg.AssetCheckResult:
        latest = latest_extract_date(ward.settings, source)
        age = (date.today() - latest).days if latest else None
        return dg.AssetCheckResult(
            passed=age is not None and age <= max_days,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "latest_extract_date": str(latest) if latest else "none loaded",
                "age_days": age if age is not None else -1,
                "threshold_days": max_days,
            },
            description=None if latest else f"No {source} extract has been loaded yet.",
        )

    return fresh


def build_freshness_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    return [_freshness_check(source, days) for source, days in settings.freshness_days]
