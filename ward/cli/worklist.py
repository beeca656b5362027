"""`ward quarantine --group N --xlsx FILE`: one residential group's open problems, as a spreadsheet.

A group leader (tổ trưởng) works through it line by line: the rows the warehouse could not take
(quarantine: must be corrected and resent) and the rows it kept but wants checked (findings). It
holds personal data — names are needed to find the person — so it is written only where asked and
is never exported.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from ward.ingest.permissions import make_private

# Rows of a group: a row's group is the residential group it names, once cleaned.
WORKLIST_SQL = """
with located as (
    select source_file, row_number, residential_group_no, full_name as person_name
    from staging.stg_landing__citizens
    union all
    select source_file, row_number, residential_group_no, head_name
    from staging.stg_landing__households
), problems as (
    select 'Phải sửa và gửi lại' as action, source, source_file, row_number, rule, column_name,
           value, reason_vi, first_seen_at
    from marts.quarantine where resolved_at is null
    union all
    select 'Cần kiểm tra', source, source_file, row_number, rule, "column", value, reason_vi,
           first_seen_at
    from marts.findings where resolved_at is null
)
select p.action as "Việc cần làm",
       case p.source when 'citizens' then 'Công dân' when 'households' then 'Hộ gia đình'
            else p.source end as "Danh sách",
       p.source_file as "Tệp", p.row_number as "Dòng", l.person_name as "Họ tên",
       p.column_name as "Cột", p.value as "Giá trị đã nhận", p.reason_vi as "Lý do",
       p.rule as "Mã quy tắc", cast(p.first_seen_at as date) as "Phát hiện ngày",
       null::varchar as "Giá trị đúng (điền vào)", null::varchar as "Ghi chú"
from problems as p
join located as l using (source_file, row_number)
where l.residential_group_no = ?
order by p.action desc, p.source_file, p.row_number, p.rule
"""


def group_worklist(warehouse: Path, group: int) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(WORKLIST_SQL, params=[group]).pl()


def write_worklist(warehouse: Path, group: int, xlsx: Path, readers_group: str | None = None) -> int:
    frame = group_worklist(warehouse, group)
    xlsx.parent.mkdir(parents=True, exist_ok=True)
    frame.write_excel(
        xlsx,
        worksheet=f"Tổ {group}",
        autofit=True,
        header_format={"bold": True, "bg_color": "#DDEBF7"},
        freeze_panes=(1, 0),
    )
    make_private(xlsx, readers_group)  # names and IDs: 0600 (0640 with the readers group)
    return frame.height
