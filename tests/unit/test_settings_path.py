"""One settings path: what a run reads from the environment reaches every step, the same values.

ward.settings.Settings.from_env is the only reader of the environment; the Definitions hand that one
Settings to every step through the `ward` resource.
"""

from pathlib import Path

import dagster as dg
import duckdb

from assets.quality import FRESHNESS_THRESHOLDS, quality_step
from orchestration.definitions import build_definitions
from orchestration.resources import WardResource
from ward.quality.evaluate import ROW_ISSUES_DDL
from ward.quality.freshness import record_freshness_thresholds
from ward.settings import DEFAULT_FRESHNESS_DAYS, ENV_FRESHNESS_DAYS, ENV_SHARED_KEY, Settings

CHANGED = {"citizens": 10, "service_records": 5}
assert CHANGED != DEFAULT_FRESHNESS_DAYS


class _Worker:
    """Great Expectations stands aside: this test is about the settings, not the rules."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def validate(self, rules):
        return {}, "no-docs"


class _NoGx(dg.ConfigurableResource):
    @property
    def worker(self) -> _Worker:
        return _Worker()


def _settings_from_env(tmp_path: Path, monkeypatch) -> Settings:
    monkeypatch.setenv("WARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(ENV_SHARED_KEY, raising=False)  # restored after: a resource may set it
    for source, days in CHANGED.items():
        monkeypatch.setenv(ENV_FRESHNESS_DAYS[source], str(days))
    return Settings.from_env()


def test_a_changed_threshold_reaches_the_freshness_check_and_the_scorecard(tmp_path, monkeypatch):
    settings = _settings_from_env(tmp_path, monkeypatch)
    assert dict(settings.freshness_days) == CHANGED
    defs = build_definitions(settings)
    ward = defs.resources["ward"]

    # Dagster's freshness check (orchestration/freshness.py) warns above the changed threshold.
    specs = {
        s.asset_key.path[-1]: s
        for c in defs.asset_checks
        for s in c.check_specs
        if s.name == "freshness_check"
    }
    for source, days in CHANGED.items():
        params = specs[source].metadata["dagster/freshness_params"].value
        assert params["lower_bound_delta_seconds"] == days * 86400

    # The quality step writes the same thresholds for mart_data_quality (the scorecard).
    settings.build_db_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.build_db_path)) as con:  # what the run before left
        con.execute("create schema quality")
        con.execute(ROW_ISSUES_DDL)
        record_freshness_thresholds(con, tuple(DEFAULT_FRESHNESS_DAYS.items()))
    monkeypatch.setattr("assets.quality.evaluate_rules", lambda con, raw_dir, rules: [])
    monkeypatch.setattr("assets.quality.record_gx_outcomes", lambda con, outcomes: [])
    monkeypatch.setattr("assets.quality.mark_evaluated", lambda con: 0)
    result = dg.materialize([quality_step], resources={"ward": ward, "gx_worker": _NoGx()})
    assert result.success
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        written = dict(con.execute("select source, max_days from quality.freshness_thresholds").fetchall())
    assert written == CHANGED
    (materialized,) = [
        m for m in result.get_asset_materialization_events() if m.asset_key == FRESHNESS_THRESHOLDS
    ]
    metadata = materialized.materialization.metadata
    assert {s: metadata[s].value for s in CHANGED} == CHANGED


def test_every_field_of_the_settings_reaches_the_steps(tmp_path, monkeypatch):
    """The resource gives back the Settings it was made from, whatever fields Settings has."""
    settings = _settings_from_env(tmp_path, monkeypatch)
    assert WardResource.from_settings(settings).settings == settings
    changed = Settings(
        data_dir=tmp_path / "elsewhere",
        shared_export_key="a-key-of-32-characters-012345678",
        ui_port=3999,
        freshness_days=(("citizens", 1), ("service_records", 99)),
    )
    assert WardResource.from_settings(changed).settings == changed
