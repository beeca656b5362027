"""Freshness: Dagster's own last-update freshness checks on the landing assets, evaluated on a timer.

The age that matters is the data's, not the run's: the landing asset materializes on every run
(nightly included), so each landing/<source> materialization carries the latest loaded extract date
as `dagster/last_updated_timestamp` (orchestration/steward.py), which Dagster's check reads instead
of the materialization time. A source is overdue when that date is older than its threshold
(WARD_FRESHNESS_CITIZENS_DAYS, default 35; WARD_FRESHNESS_SERVICE_RECORDS_DAYS, default 2), and the
check warns (it never blocks the run).

The checks run with every pipeline run, and `freshness_checks_sensor` (Dagster's
build_sensor_for_freshness_checks, running by default under `ward ui`) evaluates them again once a
passing check could have become overdue: a source goes stale on the screen on the day it does, not
at the next run. The scorecard's song/latest_extract_within_threshold reads no clock (see
docs/architecture.md); `ward run` prints the age as of now (ward/cli/summary.py).
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta

import dagster as dg
import polars as pl

from assets.ingest import LANDING_KEYS
from orchestration.steward import SOURCE_VI, bilingual
from ward.settings import Settings

FRESHNESS_SENSOR = "freshness_checks_sensor"
SENSOR_INTERVAL_SECONDS = 15 * 60  # a check is only re-run once it could have become overdue
WARD_TIMEZONE = "Asia/Ho_Chi_Minh"


def latest_extract_date(settings: Settings, source: str) -> date | None:
    if not settings.ledger_path.exists():
        return None
    ledger = pl.read_parquet(settings.ledger_path)
    loaded = ledger.filter((pl.col("source") == source) & (pl.col("status") == "loaded"))
    return loaded["extract_date"].max() if loaded.height else None


def build_freshness_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    """One Dagster freshness check per source with a threshold (check name `freshness_check`)."""
    with warnings.catch_warnings():
        # "superseded by FreshnessPolicy": a FreshnessPolicy measures from the materialization
        # time, which says nothing here (every run materializes the landing assets).
        warnings.simplefilter("ignore")
        return [
            _described(check, source, days)
            for source, days in settings.freshness_days
            for check in dg.build_last_update_freshness_checks(
                assets=[LANDING_KEYS[source]],
                lower_bound_delta=timedelta(days=days),
                timezone=WARD_TIMEZONE,
                severity=dg.AssetCheckSeverity.WARN,
            )
        ]


def _described(check: dg.AssetChecksDefinition, source: str, days: int) -> dg.AssetChecksDefinition:
    """The same check (its op, its metadata), with the steward's description instead of Dagster's
    "Evaluates freshness for targeted asset."."""
    description = bilingual(
        f"Độ mới: lần trích xuất {SOURCE_VI[source].lower()} mới nhất không cũ quá {days} ngày. Đo từ "
        "ngày trích xuất (không phải lần chạy); freshness_checks_sensor kiểm lại theo giờ. Chỉ cảnh báo.",
        f"Freshness: the latest {source} extract is at most {days} days old, measured from its extract "
        "date (not the run); freshness_checks_sensor checks again on a timer. Warns only.",
    )
    specs = {
        output: dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=description,
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
        )
        for output, spec in check.check_specs_by_output_name.items()
    }
    return dg.AssetChecksDefinition.create(
        keys_by_input_name=check.keys_by_input_name,
        node_def=check.node_def,
        check_specs_by_output_name=specs,
        can_subset=True,
    )


def build_freshness_sensor(checks: list[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
            name=FRESHNESS_SENSOR,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )
