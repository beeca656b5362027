"""Hostile landing folders: future dates, decompression bombs, crashing readers, links, FIFOs,
sub-folders, hidden files and names that are not UTF-8. Every hostile file is made here, in tmp_path.
"""

from __future__ import annotations

import io
import os
import threading
import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

import ward.ingest.load as load
import ward.ingest.xlsx_reader as xlsx_reader
from tests.unit.test_ingest import NOW, csv_text, drop, ledger_row, outcome, table, xlsx_bytes
from ward.ingest.ledger import read_ledger
from ward.ingest.load import ingest_landing
from ward.settings import Settings

GOOD = csv_text(table()).encode()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def rejected(settings, report, source_file, kind) -> dict:
    got = outcome(report, source_file)
    assert got.status == "rejected" and got.kind == kind, got
    assert got.reason_en and got.reason_vi and source_file in got.reason_en and source_file in got.reason_vi
    row = ledger_row(settings, source_file)
    assert row["status"] == "rejected" and row["reason_en"] == got.reason_en and row["reason_vi"]
    return row


def raw_text(settings) -> bytes:
    """Every byte of the raw lake and of rejected/: what ingest copied or wrote."""
    return b"".join(
        p.read_bytes() for d in (settings.raw_dir, settings.rejected_dir) if d.exists() for p in d.rglob("*")
        if p.is_file()
    )  # fmt: skip


# 1. An extract dated after today ---------------------------------------------------------------------


@pytest.mark.parametrize("source", ["citizens", "households", "service_records"])
def test_an_extract_dated_after_today_is_rejected_for_any_source(settings, source):
    drop(settings, f"{source}/ds_2099-12-31.csv", GOOD)
    drop(settings, f"{source}/ds_20261003.csv", GOOD + b"\r\n")  # tomorrow in the ward (NOW: 2 October)
    report = ingest_landing(settings, now=NOW)
    for name, when in (("ds_2099-12-31.csv", "2099-12-31"), ("ds_20261003.csv", "2026-10-03")):
        row = rejected(settings, report, f"{source}/{name}", "future_extract_date")
        assert when in row["reason_en"] and "2026-10-02" in row["reason_en"]
        assert "tương lai" in row["reason_vi"]
        kept = settings.rejected_dir / source / name  # set aside, as every rejected file
        assert kept.read_bytes() == (settings.landing_dir / source / name).read_bytes()
    assert {f.status for f in ingest_landing(settings, now=NOW).files} == {"known"}


def test_today_is_the_wards_date_and_can_be_injected(settings):
    # 18:00 UTC on 1 October is 01:00 on 2 October in Hải Phòng: a file of 2 October is today's.
    from ward.ingest.extract_date import ward_today

    evening = datetime(2026, 10, 1, 18)
    assert ward_today(evening) == date(2026, 10, 2)
    drop(settings, "citizens/ds_2026-10-02.csv", GOOD)
    assert outcome(ingest_landing(settings, now=evening), "citizens/ds_2026-10-02.csv").status == "loaded"


# 2. Decompression bombs and readers that crash -----------------------------------------------------------


def with_entry(book: bytes, name: str, size: int) -> bytes:
    """A real workbook with one more entry of `size` zero bytes (a few KB once deflated)."""
    out = io.BytesIO(book)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as z, z.open(name, "w") as entry:
        chunk = bytes(1 << 20)
        for start in range(0, size, len(chunk)):
            entry.write(chunk[: min(len(chunk), size - start)])
    return out.getvalue()


def declaring(book: bytes, unpacked: int) -> bytes:
    """The workbook with its first entry's size in the central directory set to `unpacked`."""
    at = book.index(b"PK\x01\x02")
    return book[: at + 24] + unpacked.to_bytes(4, "little") + book[at + 28 :]


def test_an_xlsx_unpacking_to_hundreds_of_times_its_size_is_not_opened(settings, monkeypatch):
    from ward.ingest.xlsx_reader import MAX_UNPACK_RATIO

    bomb = with_entry(xlsx_bytes(table()), "xl/worksheets/sheet2.xml", 40 << 20)  # 40 MiB of zeros
    assert len(bomb) * MAX_UNPACK_RATIO < 40 << 20 and len(bomb) < 200_000
    drop(settings, "citizens/bomb.xlsx", bomb)
    opened = []
    monkeypatch.setattr(xlsx_reader.fastexcel, "read_excel", lambda data: opened.append(1) or 1 / 0)
    row = rejected(settings, ingest_landing(settings, now=NOW), "citizens/bomb.xlsx", "unpacked_too_big")
    assert opened == [] and f"{MAX_UNPACK_RATIO}x" in row["reason_en"] and row["rows_in"] is None


def test_an_xlsx_declaring_more_than_a_gib_unpacked_is_not_opened(settings):
    from ward.ingest.xlsx_reader import MAX_UNPACKED_BYTES

    drop(settings, "citizens/big.xlsx", declaring(xlsx_bytes(table()), MAX_UNPACKED_BYTES + 1))
    row = rejected(settings, ingest_landing(settings, now=NOW), "citizens/big.xlsx", "unpacked_too_big")
    assert "1024 MiB" in row["reason_en"] and "giải nén" in row["reason_vi"]


def test_an_ordinary_xlsx_is_still_read(settings):
    drop(settings, "citizens/ok.xlsx", xlsx_bytes(table()))
    assert outcome(ingest_landing(settings, now=NOW), "citizens/ok.xlsx").status == "loaded"


class FakePanic(BaseException):
    """What a Rust reader's panic looks like from Python (pyo3's PanicException is a BaseException)."""


@pytest.mark.parametrize(
    "error", [RuntimeError("Nguyễn Văn Hòa 031095012345"), MemoryError(), FakePanic("x")]
)
def test_a_reader_that_crashes_rejects_its_file_and_the_run_goes_on(settings, monkeypatch, error):
    original = load.read_csv

    def reader(data, f):
        if "crash" in f:
            raise error
        return original(data, f)

    monkeypatch.setattr(load, "read_csv", reader)
    drop(settings, "citizens/a_crash.csv", GOOD + b"\n")
    drop(settings, "citizens/b_good.csv", GOOD)
    report = ingest_landing(settings, now=NOW)
    row = rejected(settings, report, "citizens/a_crash.csv", "reader_failed")
    assert type(error).__name__ in row["reason_en"] and "031095012345" not in row["reason_en"]
    assert (settings.rejected_dir / "citizens" / "a_crash.csv").exists()
    assert outcome(report, "citizens/b_good.csv").status == "loaded"
    # Recorded: the next run does not read it again.
    assert {f.status for f in ingest_landing(settings, now=NOW).files} == {"known"}


# 4. Links, FIFOs, sub-folders, hidden files, names that are not UTF-8 --------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the data root, holding a perfectly good extract nobody dropped."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret_2026-10-01.csv").write_bytes(GOOD.replace(b"HGD-1", b"SECRET-HH"))
    return folder


def test_a_symlink_is_never_followed_nor_copied(settings, outside):
    (settings.landing_dir / "citizens").mkdir(parents=True)
    (settings.landing_dir / "citizens" / "link_2026-10-01.csv").symlink_to(outside / "secret_2026-10-01.csv")
    (settings.landing_dir / "citizens" / "dangling.csv").symlink_to(outside / "gone.csv")
    (settings.landing_dir / "citizens" / "folder_link").symlink_to(outside)
    (settings.landing_dir / "households").symlink_to(outside)  # a whole source folder as a link
    report = ingest_landing(settings, now=NOW)
    for name in ("link_2026-10-01.csv", "dangling.csv", "folder_link"):
        row = rejected(settings, report, f"citizens/{name}", "symlink")
        assert "symbolic link" in row["reason_en"] and row["rows_in"] is None and row["raw_path"] is None
    assert ledger_row(settings, "citizens/link_2026-10-01.csv")["extract_date"] == date(2026, 10, 1)
    assert outcome(report, "households").status == "skipped"
    assert not any("secret" in f.source_file for f in report.files)  # the link's folder was not walked
    assert b"SECRET-HH" not in raw_text(settings)
    assert {f.status for f in ingest_landing(settings, now=NOW).files} <= {"known", "skipped"}
    assert read_ledger(settings).height == 3


def fifo_ingest(settings: Settings) -> list:
    """Ingest in a thread: a FIFO opened for reading would block it for ever."""
    result = []
    thread = threading.Thread(target=lambda: result.append(ingest_landing(settings, now=NOW)), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "ingest blocked on a FIFO"
    return result


def test_a_fifo_is_never_opened(settings):
    folder = settings.landing_dir / "citizens"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.csv")
    drop(settings, "citizens/good.csv", GOOD)
    (report,) = fifo_ingest(settings)
    row = rejected(settings, report, "citizens/pipe.csv", "fifo")
    assert "FIFO" in row["reason_en"]
    assert outcome(report, "citizens/good.csv").status == "loaded"
    assert not (settings.rejected_dir / "citizens" / "pipe.csv").exists()


def test_a_file_swapped_for_a_fifo_after_the_listing_is_not_opened(settings, monkeypatch):
    folder = settings.landing_dir / "citizens"
    drop(settings, "citizens/swap.csv", GOOD)
    listed = load._landing_entries

    def entries(landing):
        for source, path, kind in listed(landing):
            if path.name == "swap.csv":
                path.unlink()
                os.mkfifo(folder / "swap.csv")
            yield source, path, kind

    monkeypatch.setattr(load, "_landing_entries", entries)
    (report,) = fifo_ingest(settings)
    rejected(settings, report, "citizens/swap.csv", "fifo")


def test_a_sub_folder_is_recorded_and_not_descended_into(settings):
    drop(settings, "citizens/old/deeper/ds_2026-10-01.csv", GOOD)
    report = ingest_landing(settings, now=NOW)
    row = rejected(settings, report, "citizens/old", "sub_folder")
    assert "sub-folder" in row["reason_en"] and "thư mục con" in row["reason_vi"]
    assert [f.source_file for f in report.files] == ["citizens/old"]
    assert not list(settings.raw_source_dir("citizens").glob("[0-9a-f]*.parquet"))


def test_a_hidden_file_is_listed_as_rejected(settings):
    drop(settings, "citizens/.ds_2026-10-01.csv", GOOD)
    drop(settings, "citizens/~$ds.xlsx", b"x")  # Excel's lock file of an open workbook: ignored
    report = ingest_landing(settings, now=NOW)
    row = rejected(settings, report, "citizens/.ds_2026-10-01.csv", "hidden_file")
    assert "hidden" in row["reason_en"] and "rename" in row["reason_en"]
    assert [f.source_file for f in report.files] == ["citizens/.ds_2026-10-01.csv"]


def test_a_name_that_is_not_utf8_gets_a_printable_name(settings):
    folder = settings.landing_dir / "citizens"
    folder.mkdir(parents=True)
    with open(os.path.join(os.fsencode(folder), b"ds_\xff\xfe_2026-10-01.csv"), "wb") as handle:
        handle.write(GOOD)
    (folder / "a\nb\u202e.csv").write_bytes(GOOD)  # a line break and a right-to-left override
    (folder / "Danh sách tổ 3.csv").write_bytes(GOOD)  # Vietnamese is printable: read as usual
    report = ingest_landing(settings, now=NOW)
    row = rejected(settings, report, "citizens/ds_\\xff\\xfe_2026-10-01.csv", "bad_file_name")
    assert row["file_name"] == "ds_\\xff\\xfe_2026-10-01.csv" and row["extract_date"] == date(2026, 10, 1)
    rejected(settings, report, "citizens/a\\x0ab\\u202e.csv", "bad_file_name")
    assert outcome(report, "citizens/Danh sách tổ 3.csv").status == "loaded"
    ledger = pl.read_parquet(settings.ledger_path)  # written and read back by polars / Parquet
    assert all(name.isprintable() for name in ledger["source_file"])
    assert {f.status for f in ingest_landing(settings, now=NOW).files} == {"known"}


def test_odd_entries_at_the_top_of_landing_are_reported_not_followed(settings, outside):
    settings.landing_dir.mkdir(parents=True)
    (settings.landing_dir / "to_2026-10-01.csv").symlink_to(outside / "secret_2026-10-01.csv")
    os.mkfifo(settings.landing_dir / "pipe")
    (settings.landing_dir / ".hidden").write_bytes(b"x")
    (report,) = fifo_ingest(settings)
    kinds = {f.source_file: (f.status, f.kind) for f in report.files}
    assert kinds == {
        ".hidden": ("skipped", "hidden_file"), "pipe": ("skipped", "fifo"),
        "to_2026-10-01.csv": ("skipped", "symlink"),
    }  # fmt: skip
    assert b"SECRET-HH" not in raw_text(settings)


def test_safe_name():
    from ward.ingest.entries import safe_name

    assert safe_name("Danh sách.csv") == "Danh sách.csv"
    assert safe_name(os.fsdecode(b"a\xffb")) == "a\\xffb"
    assert safe_name("a\tb\u200b") == "a\\x09b\\u200b"
