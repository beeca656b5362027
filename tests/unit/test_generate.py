"""The synthetic ward generator: deterministic, every file form and kind of dirt, and a truth that holds.

Files are read back here with the csv module and openpyxl, independently of the generator and of the
pipeline's readers, so `rows_in` and the planted dirt are checked against the bytes actually written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from ward.generate import GenerateSummary, generate_ward
from ward.generate.reference import load_reference
from ward.generate.text import clean_name, strip_diacritics
from ward.sources import RELATIONS, SOURCES

PEOPLE, GROUPS, SEED = 1_500, 6, 7
QUARANTINE_KINDS = re.compile(r"^(junk_.*|duplicate_row|truncated_row)$")
ID_LOST_FOR_GOOD = {"id_scientific", "id_missing", "head_id_scientific"}


@pytest.fixture(scope="module")
def ward(tmp_path_factory) -> tuple[Path, GenerateSummary]:
    root = tmp_path_factory.mktemp("ward")
    return root, generate_ward(root, people=PEOPLE, groups=GROUPS, seed=SEED)


@pytest.fixture(scope="module")
def files(ward) -> pl.DataFrame:
    return pl.read_csv(ward[0] / "truth" / "files.csv", infer_schema_length=0)


@pytest.fixture(scope="module")
def dirt(ward) -> pl.DataFrame:
    return pl.read_csv(ward[0] / "truth" / "dirt.csv", schema_overrides={"row_number": pl.Int64})


def _clean(ward, source: str) -> pl.DataFrame:
    return pl.read_parquet(ward[0] / "truth" / f"{source}_clean.parquet")


# ------------------------------------------------------------------------------------ an independent reader
def _norm(header) -> str:
    return strip_diacritics(" ".join(unicodedata.normalize("NFC", str(header or "")).split())).lower()


def _header_names(source: str) -> dict[str, str]:
    names = {}
    for column in SOURCES[source].columns:
        for text in (column.header, column.name, *column.aliases):
            names[_norm(text)] = column.name
    return names


def _raw_rows(path: Path) -> tuple[list[list], str]:
    data = path.read_bytes()
    if path.suffix == ".xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)], "xlsx"
    if data.startswith(b"\xff\xfe"):
        text = data[2:].decode("utf-16-le")
    elif data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1258")
    text = unicodedata.normalize("NFC", text)
    separator = max([",", ";", "\t"], key=text[:4000].count)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=separator)), "csv"


def read_table(path: Path, source: str) -> tuple[list[str | None], list[dict]]:
    """Header row found by its known headers; xlsx data rows end where the total line starts."""
    rows, kind = _raw_rows(path)
    names = _header_names(source)
    at = next(i for i, r in enumerate(rows) if sum(_norm(c) in names for c in r if c is not None) >= 3)
    header = [names.get(_norm(c)) for c in rows[at]]
    data = []
    for row in rows[at + 1 :]:
        if kind == "xlsx" and sum(c not in (None, "") for c in row) < 3:
            break
        data.append({h: (None if v in (None, "") else v) for h, v in zip(header, row, strict=False) if h})
    return header, data


def parse_date(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, int | float):
        return date(1899, 12, 30) + timedelta(days=int(value))
    text = value.strip().split(" ")[0]
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 1, 1)
    if re.fullmatch(r"\d{1,2}/\d{4}", text):
        month, year = text.split("/")
        return date(int(year), int(month), 1)
    return "unreadable"


def parse_id(value):
    if value is None:
        return None
    text = str(int(value)) if isinstance(value, int | float) else str(value).strip()
    if "E+" in text.upper():
        return "scientific"
    return text.zfill(12) if text.isdigit() and len(text) in (10, 11) else text


def parse_phone(value):
    if value is None:
        return None
    digits = re.sub(r"\D", "", str(value))
    if digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) == 11:
        digits = load_reference().old_to_new_prefix[digits[:4]] + digits[4:]
    return digits


def parse_group(value) -> int:
    return int(re.findall(r"\d+", str(value))[-1])


# ------------------------------------------------------------------------------------ determinism
def _digest(root: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), int(p.stat().st_mtime))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_and_mtimes(ward, tmp_path):
    generate_ward(tmp_path, people=PEOPLE, groups=GROUPS, seed=SEED)
    assert _digest(tmp_path) == _digest(ward[0])


def test_another_seed_another_ward(ward, tmp_path):
    generate_ward(tmp_path, people=PEOPLE, groups=GROUPS, seed=SEED + 1)
    ours = (ward[0] / "truth" / "mart_population_by_group.csv").read_bytes()
    assert (tmp_path / "truth" / "mart_population_by_group.csv").read_bytes() != ours


def test_refuses_to_mix_two_wards(ward):
    with pytest.raises(FileExistsError):
        generate_ward(ward[0], people=PEOPLE, groups=GROUPS, seed=SEED)


# ------------------------------------------------------------------------------------ file forms
def test_every_file_form_is_present(ward, files):
    root = ward[0] / "landing"
    loaded = files.filter(pl.col("status") == "loaded")
    assert set(loaded["encoding"].drop_nulls()) == {"utf-8", "utf-8-sig", "utf-16", "cp1258"}
    assert set(loaded["separator"].drop_nulls()) == {"comma", "semicolon", "tab"}
    for source in SOURCES:
        assert {"csv", "xlsx"} <= set(loaded.filter(pl.col("source") == source)["file_format"]), source
    assert set(files["status"]) == {"loaded", "rejected", "duplicate"}

    boms = {"utf-8-sig": b"\xef\xbb\xbf", "utf-16": b"\xff\xfe"}
    for row in loaded.filter(pl.col("encoding").is_in(list(boms))).iter_rows(named=True):
        assert (root / row["source_file"]).read_bytes().startswith(boms[row["encoding"]])
    for row in loaded.filter(pl.col("encoding") == "cp1258").iter_rows(named=True):
        data = (root / row["source_file"]).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        text = data.decode("cp1258")
        assert "\u0301" in text or "\u0300" in text  # tone marks stored as combining characters
    for row in loaded.filter(pl.col("file_format") == "xlsx").iter_rows(named=True):
        rows, _ = _raw_rows(root / row["source_file"])
        assert str(rows[0][0]).startswith("DANH SÁCH") and not any(rows[2])
        assert int(row["header_row"]) == 4
        assert any(str(r[0]).startswith("Tổng cộng") for r in rows[-4:] if r[0])
        assert any("Người lập biểu" in str(c) for r in rows[-3:] for c in r if c)

    names = files["source_file"].to_list()
    assert any(re.search(r"\d{4}-\d{2}-\d{2}", n) for n in names)
    assert any(re.search(r"\d{8}", n) for n in names)
    no_date = files.filter(pl.col("date_from") == "mtime")
    assert no_date.height == 1
    path = root / no_date["source_file"][0]
    assert not re.search(r"\d{8}|\d{4}-\d{2}-\d{2}", path.name)
    assert datetime.fromtimestamp(path.stat().st_mtime).date() == date.fromisoformat(
        no_date["extract_date"][0]
    )


def test_header_variants(ward, files):
    root = ward[0] / "landing"
    seen_styles = set()
    for row in files.filter((pl.col("status") == "loaded") & (pl.col("source") == "citizens")).iter_rows(
        named=True
    ):
        header, _ = read_table(root / row["source_file"], "citizens")
        raw_rows, _ = _raw_rows(root / row["source_file"])
        raw = next(
            r
            for r in raw_rows
            if r and any(c is not None and _norm(c) in _header_names("citizens") for c in r)
        )
        texts = [str(c) for c in raw if c is not None]
        if any("\n" in t or t != t.strip() for t in texts):
            seen_styles.add("messy")
        if "citizen_id" in texts:
            seen_styles.add("snake")
        if "SO DINH DANH CA NHAN" in texts:
            seen_styles.add("ascii")
        if "Số CCCD" in texts or "Ngày, tháng, năm sinh" in texts:
            seen_styles.add("alias")
        if "Ghi chú" in texts:
            seen_styles.add("extra column")
        if None in header and "Ghi chú" not in texts:
            pytest.fail(f"unmapped header in {row['source_file']}: {raw}")
        if [h for h in header if h] != [c for c in SOURCES["citizens"].column_names if c in header]:
            seen_styles.add("shuffled")
        if "legacy_id" not in header:
            seen_styles.add("missing optional columns")
    assert seen_styles == {
        "messy",
        "snake",
        "ascii",
        "alias",
        "extra column",
        "shuffled",
        "missing optional columns",
    }


def test_bad_files(ward, files):
    root = ward[0] / "landing"
    by_note = {r["note"]: r for r in files.iter_rows(named=True) if r["note"]}

    def one(fragment: str) -> dict:
        (row,) = [r for note, r in by_note.items() if fragment in note]
        return row

    empty = one("empty file")
    assert (root / empty["source_file"]).stat().st_size == 0 and empty["status"] == "rejected"
    header_only = one("header only")
    assert header_only["status"] == "rejected" and header_only["rows_in"] == "0"
    assert len((root / header_only["source_file"]).read_text(encoding="utf-8").splitlines()) == 1
    unreadable = one("unreadable")
    assert unreadable["status"] == "rejected" and unreadable["rows_in"] is None
    assert not zipfile.is_zipfile(root / unreadable["source_file"])
    stray = one("households extract dropped")
    assert stray["source"] == "citizens" and stray["status"] == "rejected"
    header, rows = read_table(root / stray["source_file"], "households")
    assert "head_citizen_id" in header and len(rows) == int(stray["rows_in"])
    copy = one("byte-identical copy")
    original = copy["note"].split(" of ", 1)[1]
    assert copy["status"] == "duplicate"
    assert (root / copy["source_file"]).read_bytes() == (root / original).read_bytes()
    assert copy["source_file"] > original  # read after the original in name order
    truncated = one("truncated")
    assert truncated["source"] == "service_records" and truncated["status"] == "loaded"
    assert not (root / truncated["source_file"]).read_bytes().endswith(b"\n")


def test_every_kind_of_dirt_is_planted(dirt):
    kinds = set(dirt["kind"])
    expected = {
        "name_eth_d", "name_old_tone", "name_nfd", "name_upper", "name_extra_spaces", "sex_variant",
        "id_lost_zeros", "id_scientific", "id_missing", "head_id_scientific", "date_other_format",
        "date_only",
        "date_excel_serial", "phone_plus84", "phone_84", "phone_spaces", "phone_dots", "phone_old_11_digits",
        "group_variant", "enum_variant", "nationality_empty", "supplement_empty", "member_count_wrong",
        "duplicate_row", "junk_name_missing", "junk_dob_invalid", "junk_residence_invalid",
        "junk_group_invalid",
        "junk_household_missing", "junk_sex_invalid", "junk_household_id_missing", "junk_record_id_missing",
        "junk_received_invalid", "truncated_row", "death_after_extract", "second_head", "household_unknown",
    }  # fmt: skip
    assert expected <= kinds, expected - kinds


# ------------------------------------------------------------------------------------ counts in = counts out
def test_rows_in_matches_rows_written(ward, files, dirt):
    root = ward[0] / "landing"
    lineage = {s: _clean(ward, s).group_by("source_file").len() for s in SOURCES}
    keyed = pl.read_csv(ward[0] / "truth" / "duplicate_rows.csv")
    for row in files.filter(pl.col("rows_in").is_not_null()).iter_rows(named=True):
        source = "households" if "households extract" in (row["note"] or "") else row["source"]
        _, data = read_table(root / row["source_file"], source)
        assert len(data) == int(row["rows_in"]), row["source_file"]
        if row["status"] != "loaded":
            continue
        planted = dirt.filter(
            (pl.col("source_file") == row["source_file"])
            & pl.col("kind").str.contains(QUARANTINE_KINDS.pattern)
        )
        assert planted.height == int(row["rows_quarantined"]), row["source_file"]
        clean_rows = lineage[source].filter(pl.col("source_file") == row["source_file"])["len"].sum()
        keyed_again = keyed.filter(pl.col("source_file") == row["source_file"]).height  # kept rows
        if "truncated" not in (row["note"] or ""):
            assert clean_rows + keyed_again + planted.height == len(data), row["source_file"]


def test_delivered_citizen_rows_mean_what_the_clean_ward_says(ward, files, dirt):
    """Every kept row reads back (with the spec's cleaning) to its clean person; quarantined rows fail."""
    root = ward[0] / "landing"
    clean = _clean(ward, "citizens")
    lost = {
        (r["source_file"], r["row_number"])
        for r in dirt.filter(pl.col("kind").is_in(list(ID_LOST_FOR_GOOD))).iter_rows(named=True)
    }
    for row in files.filter((pl.col("status") == "loaded") & (pl.col("source") == "citizens")).iter_rows(
        named=True
    ):
        _, data = read_table(root / row["source_file"], "citizens")
        for person in clean.filter(pl.col("source_file") == row["source_file"]).iter_rows(named=True):
            got = data[person["row_number"] - 1]
            where = (row["source_file"], person["row_number"])
            if where in lost:
                assert parse_id(got.get("citizen_id")) in (None, "scientific"), where
            else:
                assert parse_id(got.get("citizen_id")) == person["citizen_id"], where
            assert clean_name(got["full_name"]) == person["full_name"], where
            assert parse_date(got["date_of_birth"]) == person["date_of_birth"], where
            assert parse_group(got["residential_group"]) == person["residential_group_no"], where
            assert got["household_id"] == person["household_id"], where
            assert parse_phone(got.get("phone")) == person["phone"], where
            sex = _norm(got["sex"])
            assert {"nam": "M", "nu": "F"}[sex] == person["sex"], where
            assert _norm(got["residence_type"]).replace(" ", "_") == person["residence_type"], where
        junk = dirt.filter(
            (pl.col("source_file") == row["source_file"]) & pl.col("kind").str.starts_with("junk_")
        )
        for kind, number in junk.select("kind", "row_number").iter_rows():
            got = data[number - 1]
            if kind == "junk_group_invalid":
                assert parse_group(got["residential_group"]) not in load_reference().group_numbers
            elif kind == "junk_dob_invalid":
                assert parse_date(got["date_of_birth"]) in (None, "unreadable")
            elif kind in ("junk_name_missing", "junk_household_missing"):
                assert (
                    got[{"junk_name_missing": "full_name", "junk_household_missing": "household_id"}[kind]]
                    is None
                )


# ------------------------------------------------------------------------------- the clean ward and truth
def test_each_household_has_one_head_who_is_a_member(ward, dirt):
    citizens, households = _clean(ward, "citizens"), _clean(ward, "households")
    unknown = dirt.filter(pl.col("kind") == "household_unknown").select("source_file", "row_number")
    heads = citizens.filter(pl.col("relation_to_head") == "Chủ hộ")
    for day in citizens["snapshot_date"].unique():
        h = households.filter(pl.col("snapshot_date") == day)
        hd = heads.filter(pl.col("snapshot_date") == day)
        assert hd["household_id"].n_unique() == hd.height == h.height
        joined = h.join(hd, on="household_id", how="left")
        assert joined["citizen_id"].null_count() == 0
        assert (joined["citizen_id"] == joined["head_citizen_id"]).all()
        assert joined["is_resident"].all()
        people = citizens.filter(pl.col("snapshot_date") == day)
        # every person's household is in the list but the planted household_unknown rows'
        outside = people.filter(~pl.col("household_id").is_in(h["household_id"].implode()))
        assert outside.height > 0
        assert outside.join(unknown, on=["source_file", "row_number"], how="anti").height == 0
        assert people.join(unknown, on=["source_file", "row_number"], how="semi").height == outside.height


def test_clean_people_are_plausible(ward):
    citizens = _clean(ward, "citizens")
    ref = load_reference()
    assert citizens["citizen_id"].str.contains(r"^\d{12}$").all()
    assert set(citizens["citizen_id"].str.slice(0, 3)) <= set(ref.province_codes)
    assert citizens["citizen_id"].str.starts_with("00").any()
    century = citizens["citizen_id"].str.slice(3, 1).cast(pl.Int64)
    year = 1900 + 100 * (century // 2) + citizens["citizen_id"].str.slice(4, 2).cast(pl.Int64)
    assert (year == citizens["date_of_birth"].dt.year()).all()
    assert ((century % 2 == 0) == (citizens["sex"] == "M")).all()
    assert set(citizens["relation_to_head"]) <= set(RELATIONS)
    assert set(citizens["citizen_id_delivered"]) == {"valid", "lost_zeros", "scientific", "missing"}
    assert citizens["legacy_id"].drop_nulls().str.contains(r"^\d{9}$").all()
    assert citizens["phone"].drop_nulls().str.contains(r"^0\d{9}$").all()
    assert (citizens["date_of_birth_precision"] != "day").mean() > 0.003
    males = {clean_name(n) for n in ref.given_male}
    given = citizens.with_columns(given=pl.col("full_name").str.split(" ").list.slice(-2).list.join(" "))
    share = given.filter(pl.col("sex") == "M")["given"].is_in(list(males)).mean()
    assert share > 0.9  # given names come from the list of their sex (a few names are on both lists)


def test_population_truth_adds_up(ward):
    truth = pl.read_csv(ward[0] / "truth" / "mart_population_by_group.csv")
    assert truth.columns == [
        "snapshot_date", "residential_group_no", "residents", "households", "male", "female",
        "temporary_residents", "absent", "age_0_5", "age_6_14", "age_15_59", "age_60_plus",
    ]  # fmt: skip
    counts = truth.columns[2:]
    assert truth["snapshot_date"].n_unique() == 2
    for _, frame in truth.group_by("snapshot_date"):
        ward_row = frame.filter(pl.col("residential_group_no").is_null())
        groups = frame.filter(pl.col("residential_group_no").is_not_null())
        assert ward_row.height == 1 and groups.height == GROUPS
        assert ward_row.select(counts).row(0) == tuple(groups[c].sum() for c in counts)
    rows = truth.filter(pl.col("residential_group_no").is_not_null())
    assert (rows["male"] + rows["female"] == rows["residents"]).all()
    assert (
        rows["age_0_5"] + rows["age_6_14"] + rows["age_15_59"] + rows["age_60_plus"] == rows["residents"]
    ).all()
    citizens = _clean(ward, "citizens")
    assert truth.filter(pl.col("residential_group_no").is_null())["residents"].to_list() == [
        citizens.filter(pl.col("snapshot_date") == d)["is_resident"].sum()
        for d in sorted(citizens["snapshot_date"].unique())
    ]


def test_service_kpi_truth_is_a_full_grid(ward):
    truth = pl.read_csv(ward[0] / "truth" / "mart_service_kpis.csv", try_parse_dates=True)
    versions = _clean(ward, "service_records")
    codes = set(versions["procedure_code"])
    months = truth["month"].unique().sort()
    assert truth.height == len(months) * (len(codes) + 1)
    assert months[0] == versions["received_at"].min().date().replace(day=1)
    assert months[-1] == ward[1].snapshot_dates[-1].replace(day=1)
    assert (truth["on_time_rate"].is_null() == (truth["finished"] == 0)).all()
    assert (truth["online_rate"].is_null() == (truth["received"] == 0)).all()
    total = truth.filter(pl.col("procedure_code") == "ALL")
    assert total["received"].sum() == versions["record_id"].n_unique()
    assert (
        total["open_overdue_at_month_end"].sum() > 0
        and total["finished"].sum() > total["finished_on_time"].sum()
    )
