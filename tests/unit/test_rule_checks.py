"""The rule checks (orchestration/checks.py): one Dagster asset check per rule of rules.yml, fed by
quality.rule_results; each reports the rule on all its model's rows, whether or not this run brought
new ones (a run selects a rule's check only when it builds the rule's staged model)."""

from __future__ import annotations

import dagster as dg
import duckdb

from orchestration.checks import build_rule_checks
from orchestration.resources import WardResource
from ward.quality.rules import load_rules
from ward.settings import Settings

RESULTS_DDL = """
create schema quality;
create table quality.rule_results (
    rule varchar, rows_checked bigint, rows_failed bigint, rows_checked_now bigint,
    rows_failed_now bigint, sample_rows varchar[], error varchar, gx_error varchar,
    gx_unexpected_count bigint
)
"""


def _evaluations(tmp_path, results: list[tuple]) -> dict[str, dg.AssetCheckEvaluation]:
    settings = Settings(data_dir=tmp_path)
    settings.build_db_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.build_db_path)) as con:
        con.execute(RESULTS_DDL)
        con.executemany("insert into quality.rule_results values (?, ?, ?, ?, ?, ?, ?, ?, ?)", results)
    defs = dg.Definitions(
        asset_checks=[build_rule_checks()], resources={"ward": WardResource.from_settings(settings)}
    )
    run = defs.resolve_implicit_global_asset_job_def().execute_in_process()
    evaluations = [
        e.asset_check_evaluation_data
        for e in run.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    return {e.check_name: e for e in evaluations}


def test_each_rule_reports_its_rows_as_they_stand(tmp_path):
    by_source: dict[str, list] = {}
    for rule in load_rules():
        by_source.setdefault(rule.source, []).append(rule)
    new_rows, clean, unchanged, broken = (
        by_source["service_records"][0],
        by_source["service_records"][1],
        by_source["citizens"][0],
        by_source["households"][0],
    )
    evaluations = _evaluations(
        tmp_path,
        [
            (new_rows.code, 250, 3, 25, 1, ["f.csv:7"], None, None, 1),
            (clean.code, 250, 0, 25, 0, [], None, None, 0),
            (unchanged.code, 1000, 4, 0, 0, ["c.csv:2"], None, None, None),  # no new citizens rows
            (broken.code, 90, None, 9, None, [], "Binder Error", None, None),
        ],
    )
    assert new_rows.check_name in evaluations and clean.check_name in evaluations
    # No new citizens rows: the rule still reports on all of them, a real result and never Skipped.
    standing = evaluations[unchanged.check_name]
    assert not standing.passed and standing.metadata["rows_failed"].value == 4
    found = evaluations[new_rows.check_name]
    assert not found.passed and found.severity == dg.AssetCheckSeverity.WARN
    assert found.metadata["rows_failed"].value == 3 and found.metadata["sample_rows"].value == "f.csv:7"
    assert evaluations[clean.check_name].passed
    failed = evaluations[broken.check_name]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    # A rule with no result at all (the step never ran it) is an error, never a silent pass.
    others = {r.check_name for r in load_rules()} - {new_rows.check_name, clean.check_name}
    others -= {unchanged.check_name, broken.check_name}
    assert all(not evaluations[name].passed for name in others)
    assert {evaluations[name].metadata["error"].value for name in others} == {"not run"}
