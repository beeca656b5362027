"""The corrections reader and the checks of each line (ward.corrections), on small sheets."""

from __future__ import annotations

import os
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


# Poison lines and hostile entries: nothing in landing/corrections/ stops a run ---------------------------

HEADER = "Tệp,Dòng,Cột,Mã quy tắc,Giá trị đúng (điền vào)\n"


def taken(settings) -> pl.DataFrame:
    return pl.read_parquet(settings.raw_dir / "corrections" / "*.parquet").sort("corrections_row")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("citizens/a.csv,99999999999999999999,sex,CIT_SEX_INVALID,Nam", "has no row 99999999999999999999"),
        ("citizens/a.csv,2147483648,sex,CIT_SEX_INVALID,Nam", "has no row 2147483648"),
        ("citizens/a.csv,-3,sex,CIT_SEX_INVALID,Nam", "has no row -3"),
        ("citizens/a.csv,ba,sex,CIT_SEX_INVALID,Nam", "has no row ba"),
        ("citizens/a.csv,²,sex,CIT_SEX_INVALID,Nam", "has no row ²"),  # str.isdigit() says yes
        ("citizens/a.csv,3.5,sex,CIT_SEX_INVALID,Nam", "has no row 3.5"),
        ("citizens/a.csv,,sex,CIT_SEX_INVALID,Nam", "has no row"),
        ("citizens/a.csv,3,no_such_column,CIT_SEX_INVALID,Nam", "has no column 'no_such_column'"),
        ("citizens/a.csv,3,,CIT_SEX_INVALID,Nam", "cannot be corrected"),
        ("citizens/a.csv,3,sex,,Nam", "unknown rule"),
        (",,,,Nam", "no loaded file"),
        ("../../etc/passwd,3,sex,CIT_SEX_INVALID,Nam", "no loaded file"),
    ],
)
def test_a_poison_line_is_rejected_alone(settings, line, words):
    folder = settings.landing_dir / "corrections"
    folder.mkdir(parents=True)
    good = "citizens/a.csv,3,sex,CIT_SEX_INVALID,Nam"
    (folder / "sua_2026-10-02.csv").write_text(HEADER + "\n".join([good, line, good.replace(",3,", ",4,")]))
    report = ingest_corrections(settings, now=NOW)
    assert report.files == [("corrections/sua_2026-10-02.csv", 2, 1)]
    raw = taken(settings)
    assert raw["status"].to_list() == ["accepted", "rejected", "accepted"]
    bad = raw.row(1, named=True)
    assert words in bad["reason_en"] and bad["reason_vi"] and bad["row_number"] in (None, 3)


def test_a_line_that_cannot_be_checked_is_rejected_and_the_others_taken(settings, monkeypatch):
    import ward.corrections.ingest as corrections

    original = corrections._check_line

    def check(line, targets, rules):
        if line["row_number"] == "4":
            raise OverflowError("a bug of ours")
        return original(line, targets, rules)

    monkeypatch.setattr(corrections, "_check_line", check)
    folder = settings.landing_dir / "corrections"
    folder.mkdir(parents=True)
    (folder / "sua.csv").write_text(
        HEADER + "citizens/a.csv,3,sex,CIT_SEX_INVALID,Nam\ncitizens/a.csv,4,sex,CIT_SEX_INVALID,Nữ\n"
    )
    ingest_corrections(settings, now=NOW)
    raw = taken(settings)
    assert raw["status"].to_list() == ["accepted", "rejected"]
    assert "OverflowError" in raw["reason_en"][1] and raw["reason_vi"][1]


def test_a_sheet_that_breaks_the_checks_is_one_rejected_row_and_the_next_sheet_is_taken(
    settings, monkeypatch
):
    import ward.corrections.ingest as corrections

    original = corrections.read_corrections
    monkeypatch.setattr(
        corrections, "read_corrections", lambda p: 1 / 0 if p.name.startswith("a") else original(p)
    )
    folder = settings.landing_dir / "corrections"
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text(HEADER + "citizens/a.csv,3,sex,CIT_SEX_INVALID,Nam\n")
    (folder / "b.csv").write_text(HEADER + "citizens/a.csv,3,sex,CIT_SEX_INVALID,Nữ\n")
    report = ingest_corrections(settings, now=NOW)
    assert report.files == [("corrections/a.csv", 0, 1), ("corrections/b.csv", 1, 0)]
    assert "ZeroDivisionError" in taken(settings).filter(pl.col("corrections_row").is_null())["reason_en"][0]


def test_a_corrections_sheet_dated_after_today_is_rejected_whole(settings):
    folder = settings.landing_dir / "corrections"
    folder.mkdir(parents=True)
    (folder / "sua_2099-12-31.csv").write_text(HEADER + "citizens/a.csv,3,sex,CIT_SEX_INVALID,Nam\n")
    report = ingest_corrections(settings, now=NOW)
    assert report.files == [("corrections/sua_2099-12-31.csv", 0, 1)]
    row = taken(settings).row(0, named=True)
    assert "2099-12-31" in row["reason_en"] and "after today" in row["reason_en"] and row["reason_vi"]


def test_links_fifos_folders_hidden_and_unprintable_names_in_corrections_are_not_opened(settings, tmp_path):
    import threading

    outside = tmp_path / "outside.csv"
    outside.write_text(HEADER + "citizens/a.csv,3,sex,CIT_SEX_INVALID,SECRET\n")
    folder = settings.landing_dir / "corrections"
    folder.mkdir(parents=True)
    (folder / "link.csv").symlink_to(outside)
    os.mkfifo(folder / "pipe.csv")
    (folder / "old").mkdir()
    (folder / "old" / "sua.csv").write_text(outside.read_text())
    (folder / ".sua.csv").write_text(outside.read_text())
    with open(os.path.join(os.fsencode(folder), b"sua_\xff.csv"), "w") as handle:
        handle.write(outside.read_text())
    result = []
    thread = threading.Thread(
        target=lambda: result.append(ingest_corrections(settings, now=NOW)), daemon=True
    )
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "blocked on a FIFO"
    assert sorted(result[0].files) == [
        ("corrections/.sua.csv", 0, 1), ("corrections/link.csv", 0, 1), ("corrections/old", 0, 1),
        ("corrections/pipe.csv", 0, 1), ("corrections/sua_\\xff.csv", 0, 1),
    ]  # fmt: skip
    raw = taken(settings)
    assert raw["new_value"].null_count() == raw.height  # nothing was read from any of them
    assert raw["reason_en"].null_count() == 0 and raw["reason_vi"].null_count() == 0
    assert ingest_corrections(settings, now=NOW).files == []  # each recorded once


def test_a_corrections_sheet_that_is_a_decompression_bomb_is_not_opened(settings, monkeypatch):
    import io

    from tests.unit.test_guards_ingest import with_entry

    sheet = io.BytesIO()
    pl.DataFrame(
        {"Tệp": ["citizens/a.csv"], "Dòng": ["3"], "Cột": ["sex"], "Giá trị đúng": ["Nam"]}
    ).write_excel(sheet)
    folder = settings.landing_dir / "corrections"
    folder.mkdir(parents=True)
    (folder / "sua.xlsx").write_bytes(with_entry(sheet.getvalue(), "xl/media/zeros.bin", 40 << 20))
    monkeypatch.setattr(pl, "read_excel", lambda *a, **k: pytest.fail("the bomb was opened"))
    assert ingest_corrections(settings, now=NOW).files == [("corrections/sua.xlsx", 0, 1)]
    assert "unpacked" in taken(settings)["reason_en"][0]
