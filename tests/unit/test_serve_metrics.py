"""The metric layer (ward/serve/semantic.py, metrics.yml) on a tiny hand-made warehouse: no pipeline."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from ward.readers import connect_read_only
from ward.serve.app import tool_description
from ward.serve.semantic import Condition, MetricError, MetricLayer, ScopeError, default_layer, is_small

SPEC_MARTS = {
    "dim_citizen",
    "dim_household",
    "mart_population_by_group",
    "fct_service_record",
    "mart_service_kpis",
    "mart_data_quality",
    "deliveries",
    "findings",
    "quarantine",
    "fct_residence_event",
    "mart_population_change",
}
UNITS = {"persons", "households", "events", "dossiers", "share", "count", "days", "date"}


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    path = tmp_path_factory.mktemp("wh") / "ward.duckdb"
    with duckdb.connect(str(path)) as w:
        w.execute("create schema marts")
        w.execute("""
            create table marts.mart_population_by_group as select * from (values
              (date '2026-10-01', 1, 10, 4, 5, 5, 0, 0, 1, 2, 6, 1),
              (date '2026-10-01', 2, 3, 1, 2, 1, 0, 1, 0, 0, 3, 0),
              (date '2026-10-01', null, 13, 5, 7, 6, 0, 1, 1, 2, 9, 1),
              (date '2026-11-01', 1, 12, 4, 6, 6, 1, 0, 1, 2, 8, 1),
              (date '2026-11-01', 2, 3, 1, 2, 1, 0, 2, 0, 0, 3, 0),
              (date '2026-11-01', null, 15, 5, 8, 7, 1, 2, 1, 2, 11, 1)
            ) t(snapshot_date, residential_group_no, residents, households, male, female,
                temporary_residents, absent, age_0_5, age_6_14, age_15_59, age_60_plus)""")
        w.execute("""
            create table marts.mart_service_kpis as select * from (values
              (date '2026-10-01', '1.001193', 6, 1, 5, 4, 0.8, 1/6, 0),
              (date '2026-10-01', '2.000815', 2, 0, 2, 2, 1.0, 0.0, 1),
              (date '2026-10-01', 'ALL', 8, 1, 7, 6, 6/7, 1/8, 1)
            ) t(month, procedure_code, received, received_online, finished, finished_on_time,
                on_time_rate, online_rate, open_overdue_at_month_end)""")
    return connect_read_only(path)


def test_every_metric_is_declared_once_with_both_languages_and_a_unit():
    layer = default_layer()
    assert len(layer.metrics) >= 30
    for m in layer.metrics.values():
        assert m.label_vi and m.label_en and m.description_vi and m.description_en, m.name
        assert m.unit in UNITS, m.name
        source = layer.sources[m.source]
        assert source.table.removeprefix("marts.") in SPEC_MARTS, m.name
        if m.unit in {"persons", "households", "events", "dossiers"}:
            assert m.suppress_count, f"{m.name} counts units: it needs suppress_count"
    # the measures are all there
    for name in (
        "residents",
        "households",
        "absent",
        "male",
        "female",
        "age_0_5",
        "age_60_plus",
        "births",
        "deaths",
        "moves_in",
        "moves_out",
        "dossiers_received",
        "dossiers_finished",
        "dossiers_finished_on_time",
        "dossiers_overdue",
        "dossiers_online",
        "quality_share",
    ):
        assert name in layer.metrics
    dims = set(layer.dimension_names)
    assert {"residential_group_no", "snapshot_date", "month", "procedure_code", "channel", "source"} <= dims


def test_a_level_is_read_at_the_latest_snapshot_and_totals_are_never_summed_with_their_parts(con):
    layer = default_layer()
    ward = layer.query(con, ["residents"])
    assert ward.rows == [{"residents": 15, "residents_suppressed": False}]  # the ward row of 2026-11-01
    by_group = layer.query(con, ["residents"], ["residential_group_no"])
    assert [(r["residential_group_no"], r["residents"]) for r in by_group.rows] == [(1, 12), (2, 3)]
    by_date = layer.query(con, ["residents"], ["snapshot_date"])
    assert [r["residents"] for r in by_date.rows] == [13, 15]
    older = layer.query(con, ["residents"], where=["snapshot_date=2026-10-01"])
    assert older.rows[0]["residents"] == 13
    kpi = layer.query(con, ["dossiers_received", "on_time_rate"])
    assert kpi.rows[0]["dossiers_received"] == 8 and kpi.rows[0]["on_time_rate"] == pytest.approx(6 / 7)
    per_proc = layer.query(con, ["dossiers_received"], ["procedure_code"])
    assert [r["procedure_code"] for r in per_proc.rows] == ["1.001193", "2.000815"]


def test_small_cells_are_suppressed_with_a_flag_and_zero_is_shown(con):
    layer = default_layer()
    r = layer.query(con, ["residents", "absent"], ["residential_group_no"], min_cell=5)
    g1, g2 = r.rows
    assert g1["residents"] == 12 and not g1["residents_suppressed"]
    assert g1["absent"] == 0 and not g1["absent_suppressed"]  # zero points at nobody
    assert g2["residents"] is None and g2["residents_suppressed"]
    assert g2["absent"] is None and g2["absent_suppressed"]
    assert r.suppressed_cells == 2
    # a share hides with the count it is a share of
    rates = layer.query(con, ["on_time_rate"], ["procedure_code"], min_cell=5)
    assert [x["on_time_rate_suppressed"] for x in rates.rows] == [False, True]
    assert (
        is_small(1, 5)
        and is_small(4, 5)
        and not is_small(0, 5)
        and not is_small(5, 5)
        and not is_small(None, 5)
    )


def test_a_group_scope_reads_one_group_and_refuses_another(con):
    layer = default_layer()
    r = layer.query(con, ["residents"], group_scope=2, min_cell=5, sees_scope_in_full=True)
    assert r.rows == [{"residents": 3, "residents_suppressed": False}] and r.groups == [2]
    assert layer.query(con, ["residents"], ["residential_group_no"], group_scope=2).groups == [2]
    with pytest.raises(ScopeError):
        layer.query(con, ["residents"], where=["residential_group_no=1"], group_scope=2)
    with pytest.raises(ScopeError):
        layer.query(con, ["residents"], where=["residential_group_no=2|1"], group_scope=2)
    # ward-wide sources (no group) stay suppressed for a group leader
    kpi = layer.query(
        con, ["dossiers_received"], ["procedure_code"], group_scope=2, min_cell=5, sees_scope_in_full=True
    )
    assert [x["dossiers_received_suppressed"] for x in kpi.rows] == [False, True]


@pytest.mark.parametrize(
    ("metrics", "by", "where"),
    [
        ([], [], []),
        (["no_such_metric"], [], []),
        (["residents"], ["procedure_code"], []),  # not a dimension of that mart
        (["residents", "dossiers_received"], [], []),  # two marts
        (["residents"], ["residential_group_no; drop table x"], []),
        (["residents"], [], ["residential_group_no=three"]),
        (["residents"], [], ["snapshot_date>=yesterday"]),
        (["residents"], [], ["1=1"]),
    ],
)
def test_what_the_layer_refuses(con, metrics, by, where):
    with pytest.raises(MetricError):
        default_layer().query(con, metrics, by, where)


def test_filter_values_are_parameters_never_sql(con):
    layer = default_layer()
    r = layer.query(con, ["dossiers_received"], where=["procedure_code=x' or '1'='1"])
    assert r.rows[0]["dossiers_received"] is None  # no row matched; nothing injected
    q = layer.compile(["dossiers_received"], [], [Condition.parse("procedure_code=1.001193|2.000815")])
    assert "1.001193" not in q.sql and "1.001193" in q.params


def test_conditions_parse_typed_values():
    assert Condition.parse("month>=2026-01-01") == Condition("month", ">=", (dt.date(2026, 1, 1),))
    assert Condition.parse("residential_group_no=3|4").values == (3, 4)
    assert Condition.parse("channel!=truc_tiep").op == "!="


def test_tool_description_lists_every_metric_and_dimension():
    layer = default_layer()
    tool = tool_description(layer)
    props = tool["parameters"]["properties"]
    assert set(props["metric"]["items"]["enum"]) == set(layer.metrics)
    assert set(props["by"]["items"]["enum"]) == set(layer.dimension_names)
    assert tool["parameters"]["required"] == ["metric"]
    assert tool["description_vi"] and tool["description_en"]


def test_metrics_file_with_an_unknown_dimension_is_refused(tmp_path):
    bad = tmp_path / "m.yml"
    bad.write_text(
        "sources:\n  s: {table: marts.x, dimensions: {a: a}}\n"
        "metrics:\n  m: {source: s, label_vi: v, label_en: e, unit: count, expression: count(*),\n"
        "      dimensions: [b]}\n"
    )
    with pytest.raises(ValueError, match="dimensions"):
        MetricLayer.load(bad)
