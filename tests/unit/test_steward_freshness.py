"""Freshness as the steward sees it: Dagster's own freshness checks measure the age of the latest
extract (not of the run), a sensor evaluates them on a timer, and the landing sensor does not redo
at the UI's first tick what `ward run` already took."""

from __future__ import annotations

import os
import socket
import urllib.error
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from orchestration.definitions import build_definitions, defs
from orchestration.freshness import FRESHNESS_SENSOR, build_freshness_checks, build_freshness_sensor
from orchestration.resources import WardResource
from orchestration.sensors import landing_sensor
from orchestration.steward import landing_source_metadata, rejected_files_table
from ward.cli.ui import serve_quality_report
from ward.ingest.extract_date import WARD_TZ
from ward.ingest.load import FileOutcome
from ward.settings import Settings


def _ledger(settings: Settings, rows: list[tuple]) -> None:
    settings.ledger_path.parent.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame(
        rows,
        schema=["source", "source_file", "status", "extract_date", "loaded_at", "reason_vi", "reason_en"],
        orient="row",
    )
    frame.write_parquet(settings.ledger_path)


def _stamp(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=WARD_TZ).timestamp()


def test_the_landing_asset_reports_the_ledgers_totals_and_the_latest_extract(tmp_path):
    settings = Settings(data_dir=tmp_path)
    now = datetime(2026, 11, 2, 3, 0)
    _ledger(
        settings,
        [
            ("citizens", "citizens/a.csv", "loaded", date(2026, 10, 1), now, None, None),
            ("citizens", "citizens/b.csv", "loaded", date(2026, 11, 1), now, None, None),
            ("citizens", "citizens/c.xlsx", "rejected", date(2026, 11, 1), now, "Hỏng", "Damaged"),
            ("households", "households/h.csv", "rejected", date(2026, 11, 1), now, "Rỗng", "Empty"),
        ],
    )
    # a run that brought nothing new still says how many files wait in rejected/
    metadata = landing_source_metadata(settings, "citizens", [])
    assert metadata["files_rejected"] == 1 and metadata["files_rejected_this_run"] == 0
    assert metadata["files_loaded"] == 2 and metadata["latest_extract_date"] == "2026-11-01"
    assert metadata["dagster/last_updated_timestamp"].value == _stamp(date(2026, 11, 1))
    new = [FileOutcome("citizens", "citizens/d.csv", "rejected", reason_en="x")]
    assert landing_source_metadata(settings, "citizens", new)["files_rejected_this_run"] == 1
    table = rejected_files_table(settings).value
    assert {r.data["file"] for r in table.records} == {"citizens/c.xlsx", "households/h.csv"}
    assert {r.data["reason_en"] for r in table.records} == {"Damaged", "Empty"}


def _check_results(extract_day: date, max_days: int) -> dg.AssetCheckEvaluation:
    settings = Settings(data_dir=Path("data"), freshness_days=(("citizens", max_days),))
    checks = build_freshness_checks(settings)

    @dg.asset(key=["landing", "citizens"])
    def landing_citizens():
        return dg.MaterializeResult(
            metadata={"dagster/last_updated_timestamp": dg.MetadataValue.timestamp(_stamp(extract_day))}
        )

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([landing_citizens, *checks], instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    return evaluation


def test_dagsters_freshness_check_measures_the_extract_date_not_the_run():
    today = datetime.now(UTC).astimezone(WARD_TZ).date()
    fresh = _check_results(today - timedelta(days=3), 35)
    assert fresh.passed and fresh.check_name == "freshness_check"
    stale = _check_results(today - timedelta(days=40), 35)  # materialized just now, all the same stale
    assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN


def test_a_sensor_evaluates_the_freshness_checks_on_a_timer_by_default():
    checks = build_freshness_checks(Settings(data_dir=Path("data")))
    sensor = build_freshness_sensor(checks)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert FRESHNESS_SENSOR in {s.name for s in defs.sensors}
    keys = {k for c in checks for k in c.check_keys}
    assert {k.asset_key.to_user_string() for k in keys} == {"landing/citizens", "landing/service_records"}
    for spec in (spec for c in checks for spec in c.check_specs):  # described for the steward
        assert spec.description.startswith("Độ mới") and "\n\nEN: Freshness" in spec.description
        assert "dagster/freshness_params" in spec.metadata  # still Dagster's freshness check


def test_the_landing_sensors_first_tick_skips_files_ward_run_already_took(tmp_path):
    from ward.ingest.load import ingest_landing

    settings = Settings(data_dir=tmp_path)
    folder = settings.landing_dir / "citizens"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text("x")
    ingest_landing(settings)  # what `ward run` took before the UI started
    ward = WardResource.from_settings(settings)
    defs = build_definitions(settings)
    with dg.DagsterInstance.ephemeral() as instance:

        def tick():
            # a context manager: the `ward` resource has a lifecycle (the run lock of a run)
            with dg.build_sensor_context(
                cursor=None, resources={"ward": ward}, definitions=defs, instance=instance
            ) as context:
                return landing_sensor(context)

        assert isinstance(tick(), dg.SkipReason)
        (folder / "b.csv").write_text("y")  # delivered while the UI was down
        second = tick()
    assert isinstance(second, dg.RunRequest) and second.tags["ward/sources"] == "citizens"
    assert second.asset_selection is None and second.tags["ward/plan"] == "first build"  # no build yet


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ward_ui_serves_the_quality_report_folder_and_nothing_else(tmp_path):
    settings = Settings(data_dir=tmp_path, ui_port=_free_port() - 1)
    (tmp_path / "secret.txt").write_text("personal")
    server = serve_quality_report(settings)
    assert server is not None
    try:
        base = f"http://127.0.0.1:{settings.ui_port + 1}"
        with urllib.request.urlopen(f"{base}/", timeout=5) as response:
            assert "ward run" in response.read().decode()  # no report yet: says how to make one
        for path in ("/../../secret.txt", "/%2e%2e/%2e%2e/secret.txt"):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(base + path, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert os.listdir(tmp_path / "quality" / "report") == ["index.html"]
