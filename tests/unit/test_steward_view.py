"""The steward's view (assets/steward.py) and quality report (orchestration/steward.py), on a tiny
warehouse: one line per delivery with its fate, a scorecard line per group, a page that reads offline."""

from __future__ import annotations

import re
from datetime import date

import dagster as dg
import duckdb
import pytest

from assets.delivery_partitions import DELIVERY, delivery_events, partition_key
from assets.steward import deliveries_metadata, delivery_records, read_deliveries, scorecard_metadata
from orchestration.steward import render_quality_report

TINY_WAREHOUSE = """
create schema marts; create schema quality;
create table marts.deliveries as select * from (values
    ('citizens', 'citizens/a.csv', date '2026-11-01', 'loaded', null, null, 10, 8, 2, 'aaaa0000aaaa0000'),
    ('citizens', 'citizens/b.xlsx', date '2026-11-01', 'rejected', 'Tệp hỏng', 'File damaged',
     null, null, null, 'bbbb1111bbbb1111'),
    ('households', 'households/h.csv', date '2026-11-01', 'duplicate', 'Trùng', 'Duplicate', null, null, null,
     'cccc2222cccc2222')
) t(source, source_file, extract_date, status, reason_vi, reason_en, rows_in, rows_kept, rows_quarantined,
    sha256);
create table marts.mart_population_by_group as select * from (values
    (date '2026-10-01', 1, 5), (date '2026-11-01', 1, 6), (date '2026-11-01', 2, 3),
    (date '2026-11-01', null, 9)
) t(snapshot_date, residential_group_no, residents);
create table marts.mart_data_quality as select * from (values
    ('citizens', 'dung', 'rows_passing_rules', 1, 0.5, 'share'),
    ('citizens', 'dung', 'rows_passing_rules', 2, 1.0, 'share'),
    ('citizens', 'du', 'required_fields_filled', 1, 0.9, 'share'),
    ('citizens', 'song', 'days_since_latest_extract', null, 12.0, 'days'),
    ('all', 'dung', 'rows_passing_rules', null, 0.8, 'share'),
    ('all', 'dung_chung', 'marts_with_rows', null, 1.0, 'share')
) t(source, dimension, metric, residential_group_no, value, unit);
create table marts.quarantine as select * from (values
    ('citizens', 'citizens/a.csv', 3, 'R1', 1, null::timestamp),
    ('citizens', 'citizens/a.csv', 3, 'R2', 1, null::timestamp),
    ('citizens', 'citizens/a.csv', 4, 'R1', 97, null::timestamp),
    ('citizens', 'citizens/a.csv', 5, 'R1', 2, timestamp '2026-11-02')
) t(source, source_file, row_number, rule, residential_group_no, resolved_at);
create table marts.findings as select * from (values
    ('citizens', 'citizens/a.csv', 6, 'F1', 2, null::timestamp)
) t(source, source_file, row_number, rule, residential_group_no, resolved_at);
create table quality.ref_residential_groups as select * from (values (1), (2), (3)) t(residential_group_no);
"""


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    con.execute(TINY_WAREHOUSE)
    yield con
    con.close()


def test_each_delivery_shows_its_status_reason_and_rows_rejected_first(warehouse):
    delivered = read_deliveries(warehouse)
    metadata = deliveries_metadata(delivered, delivery_records(delivered))
    rows = [r.data for r in metadata["deliveries"].value.records]
    assert rows[0]["file"] == "citizens/b.xlsx" and rows[0]["status"] == "bị từ chối / rejected"
    assert (rows[0]["reason_vi"], rows[0]["reason_en"]) == ("Tệp hỏng", "File damaged")
    loaded = next(r for r in rows if r["file"] == "citizens/a.csv")
    assert (loaded["rows_in"], loaded["rows_kept"], loaded["rows_quarantined"]) == (10, 8, 2)
    assert (metadata["files_rejected"], metadata["files_duplicate"], metadata["rows_quarantined"]) == (
        1,
        1,
        2,
    )
    columns = [c.name for c in metadata["deliveries"].value.schema.columns]
    assert columns[:5] == ["file", "status", "rows_in", "rows_kept", "rows_quarantined"]


def test_each_delivery_is_a_partition_loaded_ones_materialized_the_others_observed_with_why(warehouse):
    records = delivery_records(read_deliveries(warehouse))
    events = {e.partition: e for e in delivery_events(records, previous=[], known=set())}
    assert set(events) == {
        "citizens/a.csv@aaaa0000aaaa",
        "citizens/b.xlsx@bbbb1111bbbb",
        "households/h.csv@cccc2222cccc",
    }
    loaded, rejected = events["citizens/a.csv@aaaa0000aaaa"], events["citizens/b.xlsx@bbbb1111bbbb"]
    assert isinstance(loaded, dg.AssetMaterialization) and loaded.asset_key == DELIVERY
    assert {k: loaded.metadata[k].value for k in ("rows_in", "rows_kept", "rows_quarantined")} == {
        "rows_in": 10, "rows_kept": 8, "rows_quarantined": 2,
    }  # fmt: skip
    assert isinstance(rejected, dg.AssetObservation)
    assert rejected.metadata["status"].value == "bị từ chối / rejected"
    assert (rejected.metadata["reason_vi"].value, rejected.metadata["reason_en"].value) == (
        "Tệp hỏng",
        "File damaged",
    )
    assert "rows_in" not in rejected.metadata  # unreadable: no count, rather than a false 0


def test_a_delivery_is_reported_again_only_when_new_or_changed(warehouse):
    records = delivery_records(read_deliveries(warehouse))
    known = {partition_key(r["file"], r["sha256"]) for r in records}
    assert delivery_events(records, previous=records, known=known) == []  # a run that changed nothing
    corrected = [
        dict(r, rows_kept=9, rows_quarantined=1) if r["file"] == "citizens/a.csv" else r for r in records
    ]
    assert [e.partition for e in delivery_events(corrected, records, known)] == [
        "citizens/a.csv@aaaa0000aaaa"
    ]
    # A line beyond the previous table (it shows the first 300) is left as it was reported.
    assert delivery_events(records, previous=records[:1], known=known) == []
    # The same path delivered again with other bytes is another partition.
    loaded = next(r for r in records if r["file"] == "citizens/a.csv")
    again = [*records, dict(loaded, sha256="dddd3333dddd")]
    assert [e.partition for e in delivery_events(again, records, known)] == ["citizens/a.csv@dddd3333dddd"]


def test_a_partition_key_holds_nothing_dagster_refuses():
    assert partition_key("citizens/a\tb...csv", "ab" * 32) == "citizens/a_b_csv@abababababab"
    assert partition_key("citizens/x.csv", None) == "citizens/x.csv"


def test_the_scorecard_has_a_line_per_group_and_numbers_to_plot(warehouse):
    metadata = scorecard_metadata(warehouse)
    rows = {r.data["group"]: r.data for r in metadata["scorecard"].value.records}
    ward, group1 = rows["Toàn phường"], rows["Tổ 01"]
    assert (ward["residents"], ward["open_quarantine"], ward["open_findings"]) == (9, 2, 1)
    assert (group1["residents"], group1["open_quarantine"], group1["open_findings"]) == (6, 1, 0)
    assert (group1["dung"], group1["du"], group1["song"]) == ("50.0%", "90.0%", "—")  # days are not a share
    assert ward["dung"] == "80.0%" and ward["dung_chung"] == "100.0%"
    assert "Tổ 97: ngoài danh sách / not a ward group" in rows  # quarantined for naming no ward group
    assert metadata["residents"] == 9 and metadata["open_quarantine"] == 2
    assert metadata["share_rows_passing_rules"] == 0.8
    assert metadata["to_01/open_quarantine"] == 1 and metadata["to_02/open_findings"] == 1
    assert metadata["to_01/share_rows_passing_rules"] == 0.5
    assert not any(key.startswith("to_97/") for key in metadata)


def test_the_quality_report_says_quarantine_is_the_design_and_needs_nothing_outside(warehouse, tmp_path):
    warehouse.execute(
        """
        create table quality.rule_results as select * from (values
            ('CIT_SEX_INVALID', 'citizens', 'quarantine', 'dung', 7, 3, 7, 3, ['citizens/a.csv:3'],
             null, true, 3, null),
            ('CIT_PHONE_INVALID', 'citizens', 'flag', 'dung', 7, 2, 7, 2, [], null, true, 2, null),
            ('HH_GROUP_INVALID', 'households', 'quarantine', 'dung', 5, null, 5, null, [],
             'Binder Error <b>', null, null, null)
        ) t(rule, source, outcome, dimension, rows_checked, rows_failed, rows_checked_now,
            rows_failed_now, sample_rows, error, gx_success, gx_unexpected_count, gx_error)
        """
    )
    page = tmp_path / "report" / "index.html"
    assert render_quality_report(warehouse, page, str(date(2026, 12, 4))) == 3
    html = page.read_text(encoding="utf-8")
    assert "3 rows quarantined as designed" in html and "3 dòng được cách ly (đúng thiết kế)" in html
    assert "2 rows kept, flagged for review" in html
    assert "«sex_raw»" in html  # the reason, its placeholder named
    assert "Binder Error &lt;b&gt;" in html  # escaped
    text = html.split("</style>")[1]
    assert "Failed" not in text and not re.search(r"\d\s*%", text)  # counts of rows, not a failure rate
    assert "http" not in html and "<script" not in html  # nothing to fetch: it reads offline


def test_every_ledger_status_reads_in_vietnamese_and_back():
    from orchestration.steward import LEDGER_STATUS_VI, LEDGER_STATUSES, status_line, status_of

    assert set(LEDGER_STATUS_VI) == set(LEDGER_STATUSES)
    for status in LEDGER_STATUSES:
        assert status_line(status).startswith(LEDGER_STATUS_VI[status])
        assert status_of(status_line(status)) == status
