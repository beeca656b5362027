"""ward.ingest: every extract form into the raw lake, every file once into the ledger.

Each test drops small files into a temporary landing folder and runs `ingest_landing` on it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import unicodedata
from datetime import date, datetime
from pathlib import Path
from unittest import mock

import hypothesis
import openpyxl
import polars as pl
import pytest
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ward.ingest import csv_reader
from ward.ingest.contracts import raw_columns, raw_schema
from ward.ingest.extract_date import date_from_name, extract_date
from ward.ingest.grid import is_footer_text
from ward.ingest.headers import detect_source, map_header, map_headers, normalise_header
from ward.ingest.ledger import LEDGER_SCHEMA, read_ledger
from ward.ingest.load import ingest_landing
from ward.settings import Settings
from ward.sources import CITIZENS, HOUSEHOLDS, SERVICE_RECORDS, SOURCES

NOW = datetime(2026, 10, 2, 1, 30)
HEADERS = [c.header for c in CITIZENS.columns]
PEOPLE = [
    {
        "citizen_id": "031095012345", "legacy_id": "031234567", "full_name": "Nguyễn Văn Hòa",
        "date_of_birth": "05/01/1990", "sex": "Nam", "ethnicity": "Kinh", "religion": "Không",
        "nationality": "Việt Nam", "hometown": "Hải Phòng", "permanent_address": "Số 5, TDP 3, Phù Liễn",
        "current_address": "Số 5, TDP 3, Phù Liễn", "residence_type": "Thường trú", "household_id": "HGD-1",
        "relation_to_head": "Chủ hộ", "residential_group": "TDP 3", "phone": "0912 345 678",
        "marital_status": "Đã kết hôn", "date_of_death": None, "updated_at": "2026-09-30",
    },
    {
        "citizen_id": "031195054321", "legacy_id": None, "full_name": "Trần Thị Thúy",
        "date_of_birth": "1992", "sex": "Nữ", "ethnicity": "Kinh", "religion": "Phật giáo",
        "nationality": None, "hometown": "Nam Định", "permanent_address": "Số 5, TDP 3, Phù Liễn",
        "current_address": None, "residence_type": "Tạm trú", "household_id": "HGD-1",
        "relation_to_head": "Vợ", "residential_group": "Tổ dân phố số 3", "phone": None,
        "marital_status": "Đã kết hôn", "date_of_death": None, "updated_at": "2026-09-30",
    },
    {
        "citizen_id": None, "legacy_id": None, "full_name": "Lê Khỏe", "date_of_birth": "3/2019",
        "sex": "nam", "ethnicity": None, "religion": None, "nationality": None, "hometown": None,
        "permanent_address": None, "current_address": None, "residence_type": "Thường trú",
        "household_id": "HGD-1", "relation_to_head": "Con", "residential_group": "3", "phone": None,
        "marital_status": None, "date_of_death": None, "updated_at": None,
    },
]  # fmt: skip


# Helpers ---------------------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def drop(settings: Settings, source_file: str, content: bytes, mtime: datetime | None = None) -> Path:
    path = settings.landing_dir / source_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def table(headers=HEADERS, people=PEOPLE, columns=None) -> list[list[str | None]]:
    names = columns or [c.name for c in CITIZENS.columns]
    return [list(headers), *([p.get(n) for n in names] for p in people)]


def csv_text(rows, separator=",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=separator, lineterminator="\r\n").writerows(
        ["" if c is None else c for c in row] for row in rows
    )
    return out.getvalue()


def xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below


def to_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese Windows writes it: letters precomposed, tone marks combining."""
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        tones = "".join(m for m in decomposed if m in TONE_MARKS)
        letter = unicodedata.normalize("NFC", "".join(m for m in decomposed if m not in TONE_MARKS))
        out += letter.encode("cp1258") + tones.encode("cp1258")
    return out


def outcome(report, source_file):
    return next(f for f in report.files if f.source_file == source_file)


def raw(settings: Settings, report, source_file) -> pl.DataFrame:
    return pl.read_parquet(settings.data_dir / outcome(report, source_file).raw_path)


def ledger_row(settings: Settings, source_file: str) -> dict:
    rows = read_ledger(settings).filter(pl.col("source_file") == source_file)
    assert rows.height == 1, f"{source_file} recorded {rows.height} times"
    return rows.row(0, named=True)


def expected_cells(people=PEOPLE) -> list[dict]:
    return [{k: v for k, v in p.items()} for p in people]


def canonical(frame: pl.DataFrame) -> list[dict]:
    return frame.select(CITIZENS.column_names).to_dicts()


def assert_loaded(report, source_file, rows_in):
    got = outcome(report, source_file)
    assert got.status == "loaded", got.reason_en
    assert got.rows_in == rows_in


# One test per file form and encoding ---------------------------------------------------------------


def test_utf8_csv_is_loaded_cell_for_cell_with_lineage(settings):
    drop(settings, "citizens/ds_2026-10-01.csv", csv_text(table()).encode("utf-8"))
    report = ingest_landing(settings, now=NOW)
    assert_loaded(report, "citizens/ds_2026-10-01.csv", 3)
    frame = raw(settings, report, "citizens/ds_2026-10-01.csv")
    assert dict(frame.schema) == raw_columns("citizens")
    raw_schema("citizens").validate(frame)
    assert canonical(frame) == expected_cells()
    assert frame["_row_number"].to_list() == [1, 2, 3]
    assert set(frame["_source_file"]) == {"citizens/ds_2026-10-01.csv"}
    assert set(frame["_extract_date"]) == {date(2026, 10, 1)}
    assert set(frame["_loaded_at"]) == {NOW}
    sha = hashlib.sha256((settings.landing_dir / "citizens/ds_2026-10-01.csv").read_bytes()).hexdigest()
    assert set(frame["_file_sha256"]) == {sha}
    assert frame["_extra_columns"].null_count() == 3
    row = ledger_row(settings, "citizens/ds_2026-10-01.csv")
    assert (row["status"], row["rows_in"], row["encoding"], row["separator"], row["header_row"]) == (
        "loaded", 3, "utf-8", "comma", 1,
    )  # fmt: skip
    assert row["raw_path"] == f"raw/citizens/{sha}.parquet" and row["file_format"] == "csv"


def test_utf8_bom_csv(settings):
    drop(settings, "citizens/bom.csv", b"\xef\xbb\xbf" + csv_text(table()).encode("utf-8"))
    report = ingest_landing(settings, now=NOW)
    assert_loaded(report, "citizens/bom.csv", 3)
    assert canonical(raw(settings, report, "citizens/bom.csv")) == expected_cells()
    assert ledger_row(settings, "citizens/bom.csv")["encoding"] == "utf-8-sig"


def test_utf16_tab_csv_as_excel_unicode_text(settings):
    drop(settings, "citizens/unicode.txt", csv_text(table(), "\t").encode("utf-16"))
    report = ingest_landing(settings, now=NOW)
    assert_loaded(report, "citizens/unicode.txt", 3)
    assert canonical(raw(settings, report, "citizens/unicode.txt")) == expected_cells()
    row = ledger_row(settings, "citizens/unicode.txt")
    assert (row["encoding"], row["separator"]) == ("utf-16", "tab")


def test_windows_1258_with_combining_tone_marks_becomes_nfc(settings):
    content = to_cp1258(csv_text(table(), ";"))
    assert b"\xec" in content or b"\xd2" in content  # tone marks really are combining characters here
    drop(settings, "citizens/cp1258.csv", content)
    report = ingest_landing(settings, now=NOW)
    assert_loaded(report, "citizens/cp1258.csv", 3)
    frame = raw(settings, report, "citizens/cp1258.csv")
    assert canonical(frame) == expected_cells()
    assert all(unicodedata.is_normalized("NFC", v) for v in frame["full_name"])
    assert ledger_row(settings, "citizens/cp1258.csv")["encoding"] == "cp1258"


def test_cp1258_file_with_an_ascii_start_and_utf8_file_with_a_damaged_byte(settings):
    # Past the 256 kB sample: polars meets the non-UTF-8 bytes while reading, and the file is read again.
    ascii_rows = [[f"03109501{i:04d}", None, "Nguyen Van An", "1990", "Nam", *[None] * 6, "Thuong tru", "H1",
                   "Con", "TDP 1", *[None] * 4] for i in range(8_000)]  # fmt: skip
    late = [
        ["031095019999", None, "Lê Hòa", "1990", "Nữ", *[None] * 6, "Tạm trú", "H1", "Con", "3", *[None] * 4]
    ]
    names = [CITIZENS.column_names]
    drop(settings, "citizens/late.csv", csv_text(names + ascii_rows).encode() + to_cp1258(csv_text(late)))
    drop(settings, "citizens/damaged.csv", csv_text(table() + ascii_rows).encode() + b"\xff\xfe,,x\n")
    report = ingest_landing(settings, now=NOW)
    assert raw(settings, report, "citizens/late.csv")["full_name"][-1] == "Lê Hòa"
    assert ledger_row(settings, "citizens/late.csv")["encoding"] == "cp1258"
    assert outcome(report, "citizens/damaged.csv").kind == "undecodable"  # UTF-8 letters at its start


def test_nfd_utf8_cells_become_nfc(settings):
    drop(settings, "citizens/nfd.csv", unicodedata.normalize("NFD", csv_text(table())).encode("utf-8"))
    report = ingest_landing(settings, now=NOW)
    assert canonical(raw(settings, report, "citizens/nfd.csv")) == expected_cells()


@pytest.mark.parametrize(("separator", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_each_separator(settings, separator, name):
    drop(settings, "citizens/sep.csv", csv_text(table(), separator).encode("utf-8"))
    report = ingest_landing(settings, now=NOW)
    assert canonical(raw(settings, report, "citizens/sep.csv")) == expected_cells()
    assert ledger_row(settings, "citizens/sep.csv")["separator"] == name


def test_xlsx_with_title_and_footer_lines_and_numeric_ids(settings):
    rows = table()
    rows[1][0] = 31095012345  # an ID Excel stored as a number: its leading zero is gone
    rows[1][1] = unicodedata.normalize("NFD", rows[1][1])
    sheet = [
        ["DANH SÁCH CÔNG DÂN PHƯỜNG PHÙ LIỄN"],
        ["Ngày xuất: 01/10/2026"],
        [],
        *rows,
        [],
        ["Tổng cộng: 3 người"],
        [None, "Phù Liễn, ngày 01 tháng 10 năm 2026"],
        [None, "Người lập biểu", None, None, None, "Chủ tịch UBND phường"],
        [None, "(Ký, ghi rõ họ tên)", None, None, None, "(Ký tên, đóng dấu)"],
        [None, "Nguyễn Văn Lập", None, None, None, "Trần Văn Chủ"],
    ]
    drop(settings, "citizens/ds_20261001.xlsx", xlsx_bytes(sheet))
    report = ingest_landing(settings, now=NOW)
    assert_loaded(report, "citizens/ds_20261001.xlsx", 3)  # titles, total and signatures are not rows
    frame = raw(settings, report, "citizens/ds_20261001.xlsx")
    expected = expected_cells()
    expected[0]["citizen_id"] = "31095012345"  # as delivered: integer-valued, no ".0"
    assert canonical(frame) == expected
    assert frame["_row_number"].to_list() == [1, 2, 3]
    row = ledger_row(settings, "citizens/ds_20261001.xlsx")
    assert (row["file_format"], row["header_row"], row["encoding"]) == ("xlsx", 4, None)


def test_xlsx_cells_as_text_excel_dates_and_numbers(settings):
    sheet = table(people=PEOPLE[:1])
    sheet[1][3] = date(1990, 1, 5)
    sheet[1][18] = datetime(2026, 9, 30, 14, 5, 9)
    sheet[1][1] = "Nguyễn Văn A"
    sheet[1][14] = 5  # residential group as a number
    sheet[1][15] = 912345678.0  # phone that lost its zero
    sheet[1][17] = 1.5  # not integer-valued
    sheet.append(
        [
            "031195054321", None, "Trần B", "1990-01-05", "Nữ", *[None] * 6, "Tạm trú", "H2", "Vợ",
            "TDP 1", "0912345678", None, 45200, "30/09/2026",
        ]
    )  # fmt: skip
    drop(settings, "citizens/dates.xlsx", xlsx_bytes(sheet))
    report = ingest_landing(settings, now=NOW)
    frame = raw(settings, report, "citizens/dates.xlsx")
    first, second = frame.to_dicts()
    assert first["date_of_birth"] == "1990-01-05"
    assert first["updated_at"] == "2026-09-30 14:05:09"
    assert (first["residential_group"], first["phone"], first["date_of_death"]) == ("5", "912345678", "1.5")
    assert second["citizen_id"] == "031195054321"  # a text cell keeps its zero
    assert second["date_of_birth"] == "1990-01-05"
    assert second["date_of_death"] == "45200"  # an Excel serial number stays a number for staging
    assert second["updated_at"] == "30/09/2026"


def test_xlsx_header_row_counts_blank_rows_above(settings):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"] = "DANH SÁCH CÔNG DÂN"
    for column, value in enumerate(table()[0], start=2):
        sheet.cell(row=6, column=column, value=value)
    for column, value in enumerate(table()[1], start=2):
        sheet.cell(row=7, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    drop(settings, "citizens/offset.xlsx", out.getvalue())
    report = ingest_landing(settings, now=NOW)
    assert canonical(raw(settings, report, "citizens/offset.xlsx")) == expected_cells(PEOPLE[:1])
    assert ledger_row(settings, "citizens/offset.xlsx")["header_row"] == 6


def test_headers_without_diacritics_odd_case_line_breaks_and_snake_case(settings):
    variants = [
        "SO DINH DANH CA NHAN", "legacy_id", "  Họ và\ntên ", "ngay, thang, nam sinh", "GIỚI  TÍNH",
        "Dan toc", "tôn giáo", "QUOC TICH", "Quê quán (*)", "Nơi thường\r\ntrú", "current_address",
        "Loai cu tru", "Số hộ", "quan he voi chu ho", "TỔ DÂN PHỐ", "So dien thoai", "Tinh trang hon nhan",
        "NGÀY MẤT", "updated_at",
    ]  # fmt: skip
    assert [map_header(h, "citizens") for h in variants] == CITIZENS.column_names
    drop(settings, "citizens/odd.csv", csv_text(table(headers=variants)).encode("utf-8"))
    report = ingest_landing(settings, now=NOW)
    assert canonical(raw(settings, report, "citizens/odd.csv")) == expected_cells()
    assert outcome(report, "citizens/odd.csv").unknown_columns == ()


def test_shuffled_columns(settings):
    names = list(reversed(CITIZENS.column_names))
    headers = [next(c.header for c in CITIZENS.columns if c.name == n) for n in names]
    drop(settings, "citizens/shuffled.csv", csv_text(table(headers=headers, columns=names)).encode())
    report = ingest_landing(settings, now=NOW)
    frame = raw(settings, report, "citizens/shuffled.csv")
    assert frame.columns == list(raw_columns("citizens"))
    assert canonical(frame) == expected_cells()


def test_unknown_extra_columns_are_kept_and_reported(settings):
    rows = table()
    rows[0] += ["STT", "Ghi chú", ""]
    for i, row in enumerate(rows[1:], start=1):
        row += [str(i), "chuyển đến" if i == 1 else None, None]
    drop(settings, "citizens/extra.csv", csv_text(rows).encode())
    report = ingest_landing(settings, now=NOW)
    assert outcome(report, "citizens/extra.csv").unknown_columns == ("STT", "Ghi chú")
    frame = raw(settings, report, "citizens/extra.csv")
    extras = [json.loads(v) for v in frame["_extra_columns"]]
    assert extras == [
        {"STT": "1", "Ghi chú": "chuyển đến"},
        {"STT": "2", "Ghi chú": None},
        {"STT": "3", "Ghi chú": None},
    ]
    assert json.loads(ledger_row(settings, "citizens/extra.csv")["unknown_columns"]) == ["STT", "Ghi chú"]


def test_households_and_service_records(settings):
    households = [
        [c.header for c in HOUSEHOLDS.columns],
        ["HGD-1", "031095012345", "Nguyễn Văn Hòa", "Số 5", "TDP 3", "3", "Bình thường", "2026-09-30"],
    ]
    records = [
        [c.header for c in SERVICE_RECORDS.columns],
        ["HS-1", "1.001", "Đăng ký khai sinh", "Hộ tịch", None, "Trần Thị Thúy", None, "Trực tuyến",
         "01/09/2026 08:30", "05/09/2026", None, "Đang xử lý", "0", "Có", "02/09/2026"],
    ]  # fmt: skip
    drop(settings, "households/hh.csv", csv_text(households).encode())
    drop(settings, "service_records/hs.csv", csv_text(records, ";").encode())
    report = ingest_landing(settings, now=NOW)
    assert raw(settings, report, "households/hh.csv")["head_name"].to_list() == ["Nguyễn Văn Hòa"]
    assert raw(settings, report, "service_records/hs.csv")["received_at"].to_list() == ["01/09/2026 08:30"]


# Layout: titles, footers, truncated lines ----------------------------------------------------------


def test_csv_title_lines_and_footer_are_not_rows(settings):
    text = "DANH SÁCH CÔNG DÂN,,\nNgày 01/10/2026,,\n,,\n" + csv_text(table()) + ",,,\nTổng cộng: 3,,,\n"
    drop(settings, "citizens/titled.csv", text.encode())
    report = ingest_landing(settings, now=NOW)
    assert_loaded(report, "citizens/titled.csv", 3)
    assert canonical(raw(settings, report, "citizens/titled.csv")) == expected_cells()
    assert ledger_row(settings, "citizens/titled.csv")["header_row"] == 4


def test_truncated_last_line_is_kept_with_nulls(settings):
    text = csv_text(table()) + '031295000001,,Phạm Văn Cụt,"01/01/20'
    drop(settings, "citizens/cut.csv", text.encode())
    report = ingest_landing(settings, now=NOW)
    assert_loaded(report, "citizens/cut.csv", 4)
    last = raw(settings, report, "citizens/cut.csv").row(3, named=True)
    assert (last["citizen_id"], last["full_name"], last["sex"], last["_row_number"]) == (
        "031295000001", "Phạm Văn Cụt", None, 4,
    )  # fmt: skip


def test_truncated_line_with_few_fields_is_not_taken_for_a_footer(settings):
    text = csv_text(table()) + "031295000001,Tống Văn Tổng\n"
    drop(settings, "citizens/cut2.csv", text.encode())
    assert_loaded(ingest_landing(settings, now=NOW), "citizens/cut2.csv", 4)


def test_blank_lines_and_column_numbering_row_are_not_rows(settings):
    rows = table()
    numbering = [f"({i})" for i in range(1, len(HEADERS) + 1)]
    text = csv_text([rows[0], numbering, rows[1], [""] * 19, rows[2], rows[3]])
    drop(settings, "citizens/gaps.csv", text.encode())
    report = ingest_landing(settings, now=NOW)
    frame = raw(settings, report, "citizens/gaps.csv")
    assert canonical(frame) == expected_cells()
    assert frame["_row_number"].to_list() == [2, 4, 5]  # still points at the row in the file


def test_over_long_row_keeps_its_surplus_cells(settings):
    rows = table()
    rows[2] = [*rows[2], "surplus"]
    drop(settings, "citizens/long.csv", csv_text(rows).encode())
    report = ingest_landing(settings, now=NOW)
    frame = raw(settings, report, "citizens/long.csv")
    assert canonical(frame) == expected_cells()
    assert json.loads(frame["_extra_columns"][1]) == {"#20": "surplus"}


def test_stray_quote_and_quoted_empty_cells(settings):
    rows = table()
    text = csv_text(rows).replace("Lê Khỏe", 'Lê "Bé" Khỏe').replace(",Kinh,", ',"",', 1)
    drop(settings, "citizens/quote.csv", text.encode())
    report = ingest_landing(settings, now=NOW)
    frame = raw(settings, report, "citizens/quote.csv")
    assert frame["full_name"][2] == 'Lê "Bé" Khỏe' and frame["ethnicity"][0] is None


def test_stray_quote_in_a_title_line_does_not_hide_the_header(settings):
    rows = table()
    rows[2] = [*rows[2], "surplus"]  # an over-long row too: polars refuses, the csv module reads on
    text = '"DANH SÁCH CÔNG DÂN (tổ 3\n' + csv_text(rows)
    drop(settings, "citizens/title_quote.csv", text.encode())
    report = ingest_landing(settings, now=NOW)
    assert_loaded(report, "citizens/title_quote.csv", 3)
    assert canonical(raw(settings, report, "citizens/title_quote.csv")) == expected_cells()
    assert ledger_row(settings, "citizens/title_quote.csv")["header_row"] == 2


@pytest.mark.parametrize("chunk", [1, 7, 64])
@pytest.mark.parametrize("encoding", ["cp1258", "utf-16", "utf-16-be-bom"])
def test_transcoding_in_chunks_keeps_characters_split_across_chunks(settings, monkeypatch, chunk, encoding):
    monkeypatch.setattr(csv_reader, "_CHUNK", chunk)
    text = csv_text(table(), "\t" if encoding.startswith("utf-16") else ";")
    if encoding == "cp1258":
        content = to_cp1258(text)
    elif encoding == "utf-16":
        content = unicodedata.normalize("NFD", text).encode("utf-16")
    else:
        content = b"\xfe\xff" + text.encode("utf-16-be")
    drop(settings, "citizens/chunked.csv", content)
    report = ingest_landing(settings, now=NOW)
    frame = raw(settings, report, "citizens/chunked.csv")
    assert canonical(frame) == expected_cells()
    assert all(unicodedata.is_normalized("NFC", v) for v in frame["full_name"])


# Extract date ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ds_2026-10-01.csv", date(2026, 10, 1)),
        ("DS_CONG_DAN_20261001.xlsx", date(2026, 10, 1)),
        ("hs_2026_09_30_v2.csv", date(2026, 9, 30)),
        ("ds_2026-02-30.csv", None),  # not a real date
        ("ds_20261399.csv", None),
        ("ds_120261001.csv", None),  # part of a longer number
        ("ds.csv", None),
    ],
)
def test_extract_date_from_name(name, expected):
    assert date_from_name(name) == expected


def test_extract_date_from_mtime_in_ward_time(settings):
    # 23:30 UTC on 30 September is 06:30 on 1 October in Hải Phòng.
    mtime = datetime.fromisoformat("2026-09-30T23:30:00+00:00")
    path = drop(settings, "citizens/ds.csv", csv_text(table()).encode(), mtime=mtime)
    assert extract_date(path) == (date(2026, 10, 1), "mtime")
    ingest_landing(settings, now=NOW)
    assert ledger_row(settings, "citizens/ds.csv")["extract_date"] == date(2026, 10, 1)


# The ledger ------------------------------------------------------------------------------------------


def test_redelivery_is_a_no_op_and_landing_is_never_touched(settings):
    drop(settings, "citizens/ds_2026-10-01.csv", csv_text(table()).encode())
    drop(settings, "citizens/empty.csv", b"")
    before = {
        p: (p.read_bytes(), p.stat().st_mtime_ns) for p in settings.landing_dir.rglob("*") if p.is_file()
    }
    first = ingest_landing(settings, now=NOW)
    ledger = read_ledger(settings)
    raw_files = sorted(settings.raw_dir.rglob("*.parquet"))
    second = ingest_landing(settings, now=datetime(2026, 10, 3))
    assert {f.status for f in first.files} == {"loaded", "rejected"}
    assert {f.status for f in second.files} == {"known"}
    assert read_ledger(settings).equals(ledger)
    assert sorted(settings.raw_dir.rglob("*.parquet")) == raw_files
    after = {
        p: (p.read_bytes(), p.stat().st_mtime_ns) for p in settings.landing_dir.rglob("*") if p.is_file()
    }
    assert after == before


def test_an_unchanged_file_is_not_read_again_but_a_replaced_one_is(settings, monkeypatch):
    path = drop(settings, "citizens/ds_2026-10-01.csv", csv_text(table()).encode())
    ingest_landing(settings, now=NOW)
    import ward.ingest.load as load

    read = []
    original = load.read_regular
    monkeypatch.setattr(load, "read_regular", lambda path: read.append(path.name) or original(path))
    assert {f.status for f in ingest_landing(settings, now=NOW).files} == {"known"}
    assert read == []  # same path, size and mtime as recorded: not hashed again
    replaced = csv_text(table()).encode().replace(b"a", b"e", 1)  # same size, other bytes, later mtime
    drop(settings, "citizens/ds_2026-10-01.csv", replaced, mtime=datetime(2026, 10, 2))
    assert outcome(ingest_landing(settings, now=NOW), "citizens/ds_2026-10-01.csv").status != "known"
    assert read == [path.name]


def test_duplicate_under_a_new_name(settings):
    content = csv_text(table()).encode()
    drop(settings, "citizens/ds_2026-10-01.csv", content)
    ingest_landing(settings, now=NOW)
    drop(settings, "citizens/ds_2026-10-01 (copy).csv", content)
    report = ingest_landing(settings, now=datetime(2026, 10, 3))
    got = outcome(report, "citizens/ds_2026-10-01 (copy).csv")
    assert got.status == "duplicate"
    assert "citizens/ds_2026-10-01.csv" in got.reason_en and "citizens/ds_2026-10-01.csv" in got.reason_vi
    row = ledger_row(settings, "citizens/ds_2026-10-01 (copy).csv")
    assert row["status"] == "duplicate" and row["raw_path"] is None
    assert len(list(settings.raw_source_dir("citizens").glob("[0-9a-f]*.parquet"))) == 1
    assert {f.status for f in ingest_landing(settings).files} == {"known"}


def test_of_two_identical_new_files_the_older_is_the_original(settings):
    content = csv_text(table()).encode()
    drop(settings, "citizens/b_copy.csv", content, mtime=datetime(2026, 10, 2, 9))
    drop(settings, "citizens/z_first.csv", content, mtime=datetime(2026, 10, 1, 9))
    report = ingest_landing(settings, now=NOW)
    assert [(f.source_file, f.status) for f in report.files] == [
        ("citizens/z_first.csv", "loaded"), ("citizens/b_copy.csv", "duplicate"),
    ]  # fmt: skip


def test_a_rejected_file_moved_to_its_folder_is_loaded(settings):
    households = [
        [c.header for c in HOUSEHOLDS.columns],
        ["HGD-1", "031095012345", "A", "B", "3", "2", None, None],
    ]
    content = csv_text(households).encode()
    drop(settings, "citizens/hh.csv", content)
    assert outcome(ingest_landing(settings), "citizens/hh.csv").status == "rejected"
    (settings.landing_dir / "citizens/hh.csv").unlink()
    drop(settings, "households/hh.csv", content)
    assert_loaded(ingest_landing(settings), "households/hh.csv", 1)


def test_ledger_schema_and_empty_raw_files(settings):
    report = ingest_landing(settings, now=NOW)
    assert report.files == []
    empty_ledger = pl.read_parquet(settings.ledger_path)  # exists from the first run on, for dbt
    assert empty_ledger.height == 0 and dict(empty_ledger.schema) == LEDGER_SCHEMA
    for source in ("citizens", "households", "service_records"):
        empty = pl.read_parquet(settings.raw_source_dir(source) / "_empty.parquet")
        assert empty.height == 0 and dict(empty.schema) == raw_columns(source)
    drop(settings, "citizens/a.csv", csv_text(table()).encode())
    ingest_landing(settings, now=NOW)
    assert dict(pl.read_parquet(settings.ledger_path).schema) == LEDGER_SCHEMA


# Files that cannot be taken --------------------------------------------------------------------------


def assert_rejected(settings, report, source_file, kind, *words):
    got = outcome(report, source_file)
    assert got.status == "rejected" and got.kind == kind, got
    assert source_file in got.reason_en and source_file in got.reason_vi
    for word in words:
        assert word in got.reason_en
    row = ledger_row(settings, source_file)
    assert row["status"] == "rejected" and row["reason_en"] == got.reason_en and row["reason_vi"]
    source, name = source_file.split("/")
    kept = settings.rejected_dir / source / name
    assert kept.read_bytes() == (settings.landing_dir / source_file).read_bytes()
    assert got.reason_vi in (settings.rejected_dir / source / f"{name}.reason.txt").read_text()
    return got


def test_empty_file(settings):
    drop(settings, "citizens/empty.csv", b"")
    got = assert_rejected(settings, ingest_landing(settings), "citizens/empty.csv", "empty_file", "0 bytes")
    assert got.rows_in is None


def test_header_only_file(settings):
    drop(settings, "citizens/header.csv", csv_text(table()[:1]).encode())
    got = assert_rejected(settings, ingest_landing(settings), "citizens/header.csv", "header_only")
    assert got.rows_in == 0


def test_file_with_only_footer_lines_has_no_data_rows(settings):
    sheet = [["DANH SÁCH CÔNG DÂN"], table()[0], [], ["Tổng cộng: 0"], [None, "Người lập biểu"]]
    drop(settings, "citizens/none.xlsx", xlsx_bytes(sheet))
    assert_rejected(settings, ingest_landing(settings), "citizens/none.xlsx", "no_data_rows")


@pytest.mark.parametrize(
    ("name", "content", "kind", "word"),
    [
        ("bin.csv", bytes(range(256)) * 4, "unreadable", "binary"),
        ("bad.xlsx", b"PK\x03\x04 not really a zip", "unreadable", ".xlsx"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "legacy_excel", ".xls"),
        ("list.pdf", b"%PDF-1.4 ...", "unsupported_format", ".pdf"),
        ("page.xls", b"<html><table><tr><td>x</td></tr></table></html>", "unsupported_format", "web page"),
        ("bom.csv", b"\xef\xbb\xbfS\xe1\xbb\x91 \xff\xfe\n", "undecodable", "UTF-8"),
        ("garbage.csv", b"\x81\x8d\x8f\x90\x9d" * 50, "undecodable", "Windows-1258"),
        ("nohead.csv", b"1,2,3\n4,5,6\n", "header_not_recognised", "header"),
    ],
)
def test_unreadable_files(settings, name, content, kind, word):
    drop(settings, f"citizens/{name}", content)
    got = assert_rejected(settings, ingest_landing(settings), f"citizens/{name}", kind, word)
    assert got.rows_in is None


def test_xlsx_list_on_another_sheet_than_the_first(settings):
    book = openpyxl.Workbook()
    book.active.title = "Hướng dẫn"
    book.active.append(["Trang này không có dữ liệu"])
    listing = book.create_sheet("DS công dân")
    for row in table():
        listing.append(row)
    out = io.BytesIO()
    book.save(out)
    drop(settings, "citizens/two_sheets.xlsx", out.getvalue())
    got = assert_rejected(
        settings, ingest_landing(settings), "citizens/two_sheets.xlsx", "header_not_on_first_sheet"
    )
    assert "'DS công dân'" in got.reason_en and "'Hướng dẫn'" in got.reason_en
    assert "'DS công dân'" in got.reason_vi


def test_wrong_source(settings):
    households = [
        [c.header for c in HOUSEHOLDS.columns],
        ["HGD-1", "031095012345", "A", "B", "3", "2", None, None],
    ]
    drop(settings, "citizens/x.csv", csv_text(households).encode())
    got = assert_rejected(settings, ingest_landing(settings), "citizens/x.csv", "wrong_source")
    assert got.reason_en == (
        "File citizens/x.csv is a households list, not a citizens list: move it to the households/ folder."
    )
    assert got.reason_vi == (
        "Tệp citizens/x.csv là danh sách hộ gia đình, không phải danh sách công dân: "
        "hãy chuyển sang thư mục households/."
    )
    assert detect_source(households[0]) == "households"


def test_missing_required_column(settings):
    rows = [row[:4] + row[5:] for row in table()]  # no "Giới tính"
    drop(settings, "citizens/nosex.csv", csv_text(rows).encode())
    got = assert_rejected(
        settings, ingest_landing(settings), "citizens/nosex.csv", "missing_required_columns"
    )
    assert "'Giới tính' (sex)" in got.reason_en and got.rows_in == 3


def test_rejected_once_and_set_aside_without_overwriting(settings):
    drop(settings, "citizens/empty.csv", b"")
    ingest_landing(settings)
    assert {f.status for f in ingest_landing(settings).files} == {"known"}
    drop(settings, "citizens/empty.csv", b"not a list at all\n")  # same name, new bytes
    report = ingest_landing(settings)
    assert outcome(report, "citizens/empty.csv").kind == "header_not_recognised"
    assert read_ledger(settings).height == 2
    assert len(list((settings.rejected_dir / "citizens").glob("*.reason.txt"))) == 2


def test_one_bad_file_never_stops_the_others_and_odd_files_are_reported(settings):
    drop(settings, "citizens/a_bad.xlsx", b"PK\x03\x04broken")
    drop(settings, "citizens/b_good.csv", csv_text(table()).encode())
    drop(settings, "citizens/.hidden.csv", b"x")
    drop(settings, "citizens/~$b_good.xlsx", b"x")
    drop(settings, "citizens/b_good.csv.reason.txt", b"x")
    drop(settings, "citizens/old/c.csv", csv_text(table()).encode())
    drop(settings, "misc/d.csv", b"x")
    drop(settings, "e.csv", b"x")
    report = ingest_landing(settings, now=NOW)
    statuses = {f.source_file: f.status for f in report.files}
    # A hidden file and a sub-folder of a source folder are recorded as rejected (not read, not
    # descended into); a folder outside the source folders is reported as one skipped entry.
    assert statuses == {
        "citizens/a_bad.xlsx": "rejected", "citizens/b_good.csv": "loaded", "citizens/old": "rejected",
        "citizens/.hidden.csv": "rejected", "misc": "skipped", "e.csv": "skipped",
    }  # fmt: skip
    assert report.totals["rows_in"] == 3 and report.totals["skipped"] == 2
    assert set(read_ledger(settings)["source_file"]) == {
        "citizens/a_bad.xlsx", "citizens/b_good.csv", "citizens/old", "citizens/.hidden.csv",
    }  # fmt: skip


def test_reasons_and_report_never_quote_cells(settings):
    rows = table()
    drop(settings, "citizens/nosex.csv", csv_text([row[:3] + row[4:] for row in rows]).encode())
    drop(settings, "households/c.csv", csv_text(rows).encode())
    report = ingest_landing(settings)
    text = repr(report) + "".join(read_ledger(settings).select("reason_vi", "reason_en").to_series(1))
    for person in PEOPLE:
        assert person["full_name"] not in text
        assert not person["citizen_id"] or person["citizen_id"] not in text


# Headers -------------------------------------------------------------------------------------------


def test_header_normalisation_and_source_detection():
    assert normalise_header("  Số định\ndanh   CÁ NHÂN (*) ") == "so dinh danh ca nhan"
    assert normalise_header("ĐỊA CHỈ") == normalise_header("Dia chi") == "dia chi"
    assert map_header("citizen_id", "citizens") == "citizen_id"
    assert map_header("Số điện thoại", "service_records") == "applicant_phone"
    assert map_header("Họ tên", "households") is None
    assert detect_source([c.header for c in SERVICE_RECORDS.columns]) == "service_records"
    assert detect_source(["abc", "def"]) is None
    mapping = map_headers(["Mã hộ", "Số hộ", None, "Lạ"], "households")
    assert mapping.canonical == {0: "household_id"}
    assert mapping.extras == {1: "Số hộ", 2: "#3", 3: "Lạ"}
    assert mapping.unknown == ("Số hộ", "Lạ")


# Property: whatever lands, nothing escapes and loaded files keep every data row --------------------

HEADER_POOL = sorted(
    {
        text
        for s in (CITIZENS, HOUSEHOLDS, SERVICE_RECORDS)
        for c in s.columns
        for text in (c.header, c.name, *c.aliases)
    }
)
VIETNAMESE = "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđĐàáâãèéêìíòóôõùúýăơư"
TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(list(VIETNAMESE + ',;\t"\r\n ')), st.characters()), max_size=12
)
CELL = st.one_of(st.none(), TEXT, st.sampled_from(["Tổng cộng", "Người lập biểu", "1", "(2)", " "]))


@st.composite
def landing_file(draw) -> tuple[str, bytes]:
    form = draw(st.sampled_from(["bytes", "csv", "csv", "xlsx"]))
    if form == "bytes":
        return draw(st.sampled_from(["a.csv", "a.xlsx", "a.txt", "a.xls", "a.dat"])), draw(
            st.binary(max_size=400)
        )
    headers = draw(st.lists(st.one_of(st.sampled_from(HEADER_POOL), TEXT), min_size=1, max_size=10))
    width = len(headers)
    rows = draw(st.lists(st.lists(CELL, max_size=width + 2), max_size=6))
    titles = draw(st.lists(st.lists(CELL, max_size=2), max_size=2))
    table_rows = [*titles, headers, *rows]
    if form == "xlsx":

        def clean(cell):
            return ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell

        numbers = st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False))
        extra = draw(st.lists(st.lists(st.one_of(CELL, numbers, st.dates()), max_size=width), max_size=3))
        return "a.xlsx", xlsx_bytes([[clean(c) for c in row] for row in table_rows + extra])
    text = csv_text(table_rows, draw(st.sampled_from([",", ";", "\t"])))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]))
    content = to_cp1258_lossy(text) if encoding == "cp1258" else text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        content = content[: draw(st.integers(0, len(content)))]  # cut anywhere, even inside a character
    return draw(st.sampled_from(["a.csv", "a.txt", "a.tsv"])), content


def to_cp1258_lossy(text: str) -> bytes:
    out = b""
    for ch in text:
        try:
            out += to_cp1258(ch)
        except UnicodeEncodeError:
            out += b"?"
    return out


@hypothesis.settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[hypothesis.HealthCheck.too_slow]
)
@hypothesis.given(
    files=st.lists(st.tuples(st.sampled_from(list(SOURCES)), landing_file()), min_size=1, max_size=3),
    chunk=st.sampled_from([3, 64, csv_reader._CHUNK]),  # decoding chunks split characters and lines
)
def test_no_landing_file_breaks_ingest(files, chunk):
    with tempfile.TemporaryDirectory() as tmp, mock.patch.object(csv_reader, "_CHUNK", chunk):
        settings = Settings(data_dir=Path(tmp))
        for i, (source, (name, content)) in enumerate(files):
            drop(settings, f"{source}/{i}_{name}", content)
        report = ingest_landing(settings, now=NOW)
        assert len(report.files) == len(files)
        ledger = read_ledger(settings)
        assert ledger.height == len(files)
        for got in report.files:
            assert got.status in ("loaded", "rejected", "duplicate"), got
            assert got.reason_en or got.status == "loaded"
            if got.status == "loaded":
                frame = pl.read_parquet(settings.data_dir / got.raw_path)
                raw_schema(got.source).validate(frame)
                assert frame.height == got.rows_in == ledger_row(settings, got.source_file)["rows_in"] > 0
        assert {f.status for f in ingest_landing(settings, now=NOW).files} == {"known"}


@pytest.mark.parametrize(
    ("text", "footer"),
    [
        ("Tổng cộng: 3 người", True), ("TỔNG CỘNG", True), ("Tổng số hộ: 12", True), ("Cộng: 3", True),
        ("Người lập biểu", True), ("(Ký, ghi rõ họ tên)", True), ("TM. UBND PHƯỜNG", True),
        ("Phù Liễn, ngày 01 tháng 10 năm 2026", True), ("Xác nhận của UBND", True), ("TONG CONG: 3", True),
        ("Tống Văn A", False), ("Tống Công Minh", False), ("Công Văn B", False), ("Chu Văn An", False),
        ("031295000001", False),
    ],
)  # fmt: skip
def test_footer_lines_are_told_from_names(text, footer):
    assert is_footer_text(text) is footer


def test_a_raw_contract_failure_is_our_fault_not_the_files(settings, monkeypatch):
    import ward.ingest.load as load

    drop(settings, "citizens/a.csv", csv_text(table()).encode())
    monkeypatch.setattr(load, "contract_failures", lambda source, frame: ["_row_number: field_uniqueness"])
    got = outcome(ingest_landing(settings), "citizens/a.csv")
    assert got.status == "error" and "_row_number: field_uniqueness" in got.reason_en
    assert read_ledger(settings).height == 0 and not settings.rejected_dir.exists()
    monkeypatch.undo()
    assert outcome(ingest_landing(settings), "citizens/a.csv").status == "loaded"  # retried once fixed
