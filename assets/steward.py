"""The steward's view, in the Dagster UI: what came in and how good it is, after each publication.

Two assets, materialized by every run once the warehouse is published, read from what was published
(warehouse/ward.duckdb, through ward.readers: read only, nothing else reachable):

- `steward/deliveries`: one line per delivered file (marts.deliveries): status, reason in Vietnamese
  and English, rows in, kept and quarantined, as a table; totals as numbers, which Dagster plots
  over runs.
- `steward/scorecard`: one line per residential group and one for the ward: residents, the six
  words of the scorecard (đúng, đủ, sạch, sống, thống nhất, dùng chung: each the mean of that
  dimension's share metrics in marts.mart_data_quality for the group), open quarantine rows and
  open findings; the ward's figures and each group's as numbers, plotted over runs.

They come after publication, not beside it: Dagster may run steps in parallel processes, and DuckDB
lets no process read a file another one writes. When a blocking check stops the run before
publication, the view of the last publication stands (the failing check is on its own asset, and
the landing assets list the rejected files whatever happens after ingest).
"""

from typing import Any

import dagster as dg

from assets.delivery_partitions import SHA_DIGITS, report_deliveries
from assets.publish import EXPORTS_KEY, WAREHOUSE_KEY
from orchestration.resources import WardResource
from orchestration.steward import bilingual, status_line
from ward.readers import connect_reader

DELIVERIES = dg.AssetKey(["steward", "deliveries"])
SCORECARD = dg.AssetKey(["steward", "scorecard"])
_MARTS = [dg.AssetKey(["marts", m]) for m in ("deliveries", "mart_data_quality", "quarantine", "findings")]
DIMENSIONS = ("dung", "du", "sach", "song", "thong_nhat", "dung_chung")
DIMENSION_VI = {
    "dung": "đúng",
    "du": "đủ",
    "sach": "sạch",
    "song": "sống",
    "thong_nhat": "thống nhất",
    "dung_chung": "dùng chung",
}
MAX_DELIVERY_ROWS = 300  # the table shows the problems first, then the newest files

_DELIVERIES_SQL = """
    select source, source_file, cast(extract_date as varchar), status, reason_vi, reason_en,
           rows_in, rows_kept, rows_quarantined, sha256
    from marts.deliveries
    order by case status when 'rejected' then 0 when 'held' then 1 when 'loaded' then 2 else 3 end,
             coalesce(rows_quarantined, 0) > 0 desc, extract_date desc nulls last, source_file
"""

# The figures before the reasons: a reason is long, and the table scrolls sideways.
DELIVERY_COLUMNS = [
    dg.TableColumn("file", "string", description="Tệp / file (landing/…)"),
    dg.TableColumn("status", "string", description="Trạng thái / status"),
    dg.TableColumn("rows_in", "int", description="Dòng nhận / rows in"),
    dg.TableColumn("rows_kept", "int", description="Dòng giữ / rows kept"),
    dg.TableColumn("rows_quarantined", "int", description="Dòng cách ly / rows quarantined"),
    dg.TableColumn("reason_vi", "string", description="Lý do"),
    dg.TableColumn("reason_en", "string", description="Reason"),
    dg.TableColumn("extract_date", "string", description="Ngày trích xuất / extract date"),
    dg.TableColumn(
        "sha256", "string", description="12 ký tự đầu của sha256 / first 12 hex of the sha256 (partition)"
    ),
]


def read_deliveries(con) -> list[tuple]:
    """marts.deliveries, problems first: what the table and the partitions are made from."""
    return con.execute(_DELIVERIES_SQL).fetchall()


def delivery_records(rows: list[tuple]) -> list[dict[str, Any]]:
    """One line per delivery, as the deliveries table shows it (and its partition is reported)."""
    records = []
    for _, source_file, extract_date, status, reason_vi, reason_en, *figures, sha256 in rows:
        rows_in, kept, quarantined = figures
        records.append(
            {
                "file": source_file,
                "status": status_line(status),
                "rows_in": rows_in,
                "rows_kept": kept,
                "rows_quarantined": quarantined,
                "reason_vi": reason_vi or "",
                "reason_en": reason_en or "",
                "extract_date": extract_date or "",
                "sha256": (sha256 or "")[:SHA_DIGITS],
            }
        )
    return records


def deliveries_metadata(rows: list[tuple], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The steward/deliveries metadata from read_deliveries' rows and their delivery_records."""
    table = [dg.TableRecord(record) for record in records]

    def total(index: int, status: str = "loaded") -> int:
        return int(sum(r[index] or 0 for r in rows if r[3] == status))

    return {
        "deliveries": dg.MetadataValue.table(
            table[:MAX_DELIVERY_ROWS], schema=dg.TableSchema(columns=DELIVERY_COLUMNS)
        ),
        "files_loaded": sum(r[3] == "loaded" for r in rows),
        "files_rejected": sum(r[3] == "rejected" for r in rows),
        "files_duplicate": sum(r[3] == "duplicate" for r in rows),
        "files_held": sum(r[3] == "held" for r in rows),
        "rows_in": total(6),
        "rows_kept": total(7),
        "rows_quarantined": total(8),
        "dagster/row_count": len(rows),
    }


_SCORE_SQL = """
    with latest as (select max(snapshot_date) as d from marts.mart_population_by_group),
    groups as (
        select distinct residential_group_no from marts.mart_data_quality
        union select distinct residential_group_no from marts.mart_population_by_group
        union select distinct residential_group_no from marts.quarantine
        union select distinct residential_group_no from marts.findings
    ),
    residents as (
        select residential_group_no, residents from marts.mart_population_by_group, latest
        where snapshot_date = latest.d
    ),
    scores as (
        select residential_group_no, dimension, avg(value) as score
        from marts.mart_data_quality where unit = 'share' group by all
    ),
    quarantine as (
        select residential_group_no, count(distinct (source, source_file, row_number)) as n
        from marts.quarantine where resolved_at is null group by all
    ),
    ward_quarantine as (
        select count(distinct (source, source_file, row_number)) as n
        from marts.quarantine where resolved_at is null
    ),
    findings as (
        select residential_group_no, count(*) as n from marts.findings where resolved_at is null group by all
    ),
    ward_findings as (select count(*) as n from marts.findings where resolved_at is null),
    passing as (
        select residential_group_no, value from marts.mart_data_quality
        where metric = 'rows_passing_rules' and source = 'citizens' and residential_group_no is not null
        union all
        select null, value from marts.mart_data_quality
        where metric = 'rows_passing_rules' and source = 'all' and residential_group_no is null
    )
    select g.residential_group_no, r.residents,
        {dimensions},
        case when g.residential_group_no is null then wq.n else coalesce(q.n, 0) end,
        case when g.residential_group_no is null then wf.n else coalesce(f.n, 0) end,
        p.value
    from groups g
    cross join ward_quarantine wq cross join ward_findings wf
    left join residents r on r.residential_group_no is not distinct from g.residential_group_no
    left join quarantine q on q.residential_group_no = g.residential_group_no
    left join findings f on f.residential_group_no = g.residential_group_no
    left join passing p on p.residential_group_no is not distinct from g.residential_group_no
    order by g.residential_group_no nulls first
"""

SCORE_COLUMNS = [
    dg.TableColumn("group", "string", description="Tổ dân phố / residential group"),
    dg.TableColumn("residents", "int", description="Nhân khẩu (lần trích xuất mới nhất) / residents"),
    *(
        dg.TableColumn(
            d, "string", description=f"{DIMENSION_VI[d]}: trung bình các tỉ lệ / mean of the shares"
        )
        for d in DIMENSIONS
    ),
    dg.TableColumn("open_quarantine", "int", description="Dòng đang cách ly / rows in quarantine (open)"),
    dg.TableColumn("open_findings", "int", description="Phát hiện chưa xử lý / open findings"),
]


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"  # no space: a narrow column must not wrap it


def _group_label(group: int | None, known: bool) -> str:
    if group is None:
        return "Toàn phường"
    return f"Tổ {group:02d}" if known else f"Tổ {group:02d}: ngoài danh sách / not a ward group"


def _ward_groups(con) -> set[int] | None:
    try:
        return {
            r[0]
            for r in con.execute("select residential_group_no from quality.ref_residential_groups").fetchall()
        }
    except Exception:  # an older warehouse without the list: every group counts as the ward's
        return None


def scorecard_metadata(con) -> dict[str, Any]:
    dimension_sql = ",\n        ".join(
        "(select score from scores s where s.dimension = "
        f"'{d}' and s.residential_group_no is not distinct from g.residential_group_no)"
        for d in DIMENSIONS
    )
    rows = con.execute(_SCORE_SQL.format(dimensions=dimension_sql)).fetchall()
    ward_groups = _ward_groups(con)
    records, numbers = [], {}
    for group, residents, *rest in rows:
        scores, (quarantined, findings, passing) = rest[: len(DIMENSIONS)], rest[len(DIMENSIONS) :]
        known = group is None or ward_groups is None or group in ward_groups
        records.append(
            dg.TableRecord(
                {
                    "group": _group_label(group, known),
                    "residents": residents,
                    **{d: _share(v) for d, v in zip(DIMENSIONS, scores, strict=True)},
                    "open_quarantine": quarantined,
                    "open_findings": findings,
                }
            )
        )
        if not known:
            continue  # rows naming a group the ward does not have (quarantined): in the table only
        prefix = "" if group is None else f"to_{group:02d}/"
        numbers[f"{prefix}residents"] = int(residents or 0)
        numbers[f"{prefix}open_quarantine"] = int(quarantined or 0)
        numbers[f"{prefix}open_findings"] = int(findings or 0)
        if passing is not None:
            numbers[f"{prefix}share_rows_passing_rules"] = float(round(passing, 4))
    return {
        "scorecard": dg.MetadataValue.table(records, schema=dg.TableSchema(columns=SCORE_COLUMNS)),
        **numbers,
    }


_WORDS = ", ".join(f"{vi} ({d})" for d, vi in DIMENSION_VI.items())


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            DELIVERIES,
            deps=[WAREHOUSE_KEY, EXPORTS_KEY, *_MARTS],
            group_name="steward",
            description=bilingual(
                "Cán bộ xem ở đây: mỗi tệp đã nhận một dòng (bảng `deliveries`) với trạng thái, lý do "
                "(tiếng Việt và tiếng Anh), số dòng nhận, giữ và cách ly. Tệp bị từ chối lên đầu.",
                "What the steward asks: one line per delivered file (table `deliveries`) with its status, "
                "reason (Vietnamese and English), rows in, kept and quarantined. Rejected files first.",
            ),
        ),
        dg.AssetSpec(
            SCORECARD,
            deps=[WAREHOUSE_KEY, EXPORTS_KEY, *_MARTS],
            group_name="steward",
            description=bilingual(
                f"Bảng điểm theo tổ dân phố (bảng `scorecard`): nhân khẩu, sáu chữ {_WORDS} — mỗi chữ là "
                "trung bình các tỉ lệ của chiều đó trong marts.mart_data_quality — số dòng đang cách ly "
                "và số phát hiện chưa xử lý. Các số của toàn phường và từng tổ (to_NN/…) được vẽ theo "
                "thời gian ở thẻ Plots.",
                "Scorecard per residential group (table `scorecard`): residents, the six words (each the "
                "mean of that dimension's shares in marts.mart_data_quality), open quarantine rows and open "
                "findings. The ward's and each group's (to_NN/…) figures are plotted over runs (Plots tab).",
            ),
        ),
    ],
    name="steward_view",
)
def steward_view(context: dg.AssetExecutionContext, ward: WardResource):
    with connect_reader(ward.settings) as con:
        delivery_rows = read_deliveries(con)
        scorecard = scorecard_metadata(con)
    every_delivery = delivery_records(delivery_rows)
    deliveries = deliveries_metadata(delivery_rows, every_delivery)
    # Each delivery as a partition of steward/delivery (assets/delivery_partitions.py), reported
    # when new or when its line changed since the deliveries table this view published last.
    reported = report_deliveries(context, every_delivery, _previous_lines(context.instance))
    context.log.info(f"{reported} delivery partition(s) reported")
    context.log.info(
        f"{deliveries['files_rejected']} file(s) rejected; {deliveries['rows_quarantined']} of "
        f"{deliveries['rows_in']} row(s) quarantined; {scorecard['open_findings']} open finding(s)"
    )
    yield dg.MaterializeResult(asset_key=DELIVERIES, metadata=deliveries)
    yield dg.MaterializeResult(asset_key=SCORECARD, metadata=scorecard)


def _previous_lines(instance: dg.DagsterInstance) -> list[dict[str, Any]]:
    """The deliveries table of the last steward view (Dagster's record of it), as lines."""
    event = instance.get_latest_materialization_event(DELIVERIES)
    table = event and event.asset_materialization and event.asset_materialization.metadata.get("deliveries")
    return [dict(r.data) for r in table.value.records] if table else []
