"""The corrections reader and the checks of each line (ward.corrections), on small sheets."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from ward.corrections.ingest import ingest_corrections
from ward.corrections.reader import UnreadableCorrections, read_corrections
from ward.ingest.ledger import LedgerRow, append_ledger
from ward.settings import Settings

NOW = datetime(2026, 11, 20, 8)


def test_vietnamese_headers_without_diacritics_and_only_filled_lines(tmp_path):
    path = tmp_path / "sua.csv"
    path.write_text(
        "Tep,Dong,Cot,Gia tri da nhan,Ma quy tac,Gia tri dung (dien vao),Ghi chu\n"
        "citizens/a.csv,3,sex,X,CIT_SEX_INVALID,Nam,\n"
        "citizens/a.csv,4,sex,Y,CIT_SEX_INVALID,,chưa rõ\n",
        encoding="utf-8-sig",
    )
    lines = read_corrections(path)
    assert lines.height == 1
    assert lines["new_value"].to_list() == ["Nam"] and lines["corrections_row"].to_list() == [1]


def test_snake_case_headers(tmp_path):
    path = tmp_path / "sua.csv"
    path.write_text("source_file,row_number,column,new_value\ncitizens/a.csv,3,sex,Nữ\n")
    assert read_corrections(path)["column"].to_list() == ["sex"]


def test_a_sheet_without_the_needed_columns_is_refused(tmp_path):
    path = tmp_path / "sua.csv"
    path.write_text("Họ tên,Ghi chú\nAn,x\n")
    with pytest.raises(UnreadableCorrections, match="row_number"):
        read_corrections(path)


@pytest.fixture
def settings(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    append_ledger(
        settings,
        [LedgerRow(source="citizens", file_name="a.csv", source_file="citizens/a.csv", sha256="s" * 64,
                   extract_date=NOW.date(), status="loaded", reason_vi=None, reason_en=None, rows_in=5,
                   loaded_at=NOW)],
    )  # fmt: skip
    return settings


def test_each_bad_line_is_kept_rejected_with_a_reason(settings):
    folder = settings.landing_dir / "corrections"
    folder.mkdir(parents=True)
    (folder / "sua_2026-11-20.csv").write_text(
        "Tệp,Dòng,Cột,Mã quy tắc,Giá trị đúng (điền vào)\n"
        "citizens/a.csv,3,Giới tính,CIT_SEX_INVALID,Nam\n"  # good (a Vietnamese header as column)
        "citizens/b.csv,3,sex,CIT_SEX_INVALID,Nam\n"  # no such file
        "citizens/a.csv,9,sex,CIT_SEX_INVALID,Nam\n"  # no such row
        "citizens/a.csv,3,*,CIT_DUPLICATE_ROW,x\n"  # a whole row: resend instead
        "citizens/a.csv,3,sex,NO_RULE,Nam\n"  # unknown rule
    )
    report = ingest_corrections(settings, now=NOW)
    assert report.files == [("corrections/sua_2026-11-20.csv", 1, 4)]
    raw = pl.read_parquet(settings.raw_dir / "corrections" / "*.parquet")
    good = raw.filter(pl.col("status") == "accepted").row(0, named=True)
    assert (good["column"], good["target_sha256"], str(good["corrected_at"])) == (
        "sex",
        "s" * 64,
        "2026-11-20",
    )
    reasons = raw.filter(pl.col("status") == "rejected").sort("corrections_row")["reason_en"].to_list()
    assert ["no loaded file" in reasons[0], "has no row 9" in reasons[1], "resend" in reasons[2],
            "unknown rule" in reasons[3]] == [True] * 4  # fmt: skip
    assert raw.filter(pl.col("status") == "rejected")["reason_vi"].null_count() == 0
    assert ingest_corrections(settings, now=NOW).files == []  # the same bytes are not taken twice


def test_an_unreadable_sheet_is_one_rejected_row(settings):
    folder = settings.landing_dir / "corrections"
    folder.mkdir(parents=True)
    (folder / "sua.xlsx").write_bytes(b"not a spreadsheet")
    ingest_corrections(settings, now=NOW)
    raw = pl.read_parquet(settings.raw_dir / "corrections" / "*.parquet")
    assert raw["status"].to_list() == ["rejected"] and raw["corrections_row"].to_list() == [None]
