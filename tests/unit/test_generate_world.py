"""What the world sends, planted by the generator with its truth: rows keyed again, twins, namesakes,
deaths after the extract date, second heads, unknown households, and member counts as upstream
counts them. Files are read back with the independent reader of test_generate.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tests.unit.test_generate import _norm, parse_date, parse_group, parse_id, parse_phone, read_table
from ward.generate import generate_ward
from ward.generate.text import clean_name, strip_diacritics

PEOPLE, GROUPS, SEED = 1_500, 6, 7
KEYED_KINDS = {
    "id_missing",
    "id_lost_zeros",
    "name_typo",
    "name_no_diacritics",
    "dob_day_month_swapped",
    "phone_missing",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    generate_ward(root, people=PEOPLE, groups=GROUPS, seed=SEED)
    return root


@pytest.fixture(scope="module")
def citizens(root) -> pl.DataFrame:
    return pl.read_parquet(root / "truth" / "citizens_clean.parquet")


@pytest.fixture(scope="module")
def households(root) -> pl.DataFrame:
    return pl.read_parquet(root / "truth" / "households_clean.parquet")


@pytest.fixture(scope="module")
def dirt(root) -> pl.DataFrame:
    return pl.read_csv(root / "truth" / "dirt.csv", schema_overrides={"row_number": pl.Int64})


@pytest.fixture(scope="module")
def files(root) -> pl.DataFrame:
    return pl.read_csv(root / "truth" / "files.csv", try_parse_dates=True)


_tables: dict[tuple[Path, str], list[dict]] = {}


def _rows(root: Path, source_file: str) -> list[dict]:
    key = (root, source_file)
    if key not in _tables:
        _tables[key] = read_table(root / "landing" / source_file, "citizens")[1]
    return _tables[key]


def _delivered(root: Path, source_file: str, row_number: int) -> dict:
    return _rows(root, source_file)[row_number - 1]


def _planted(dirt: pl.DataFrame, citizens: pl.DataFrame, kind: str) -> pl.DataFrame:
    rows = dirt.filter(pl.col("kind") == kind).select("source_file", "row_number")
    return citizens.join(rows, on=["source_file", "row_number"], how="inner")


def _surname(name: str) -> str:
    return name.split(" ")[0]


def _given(name: str) -> str:
    return strip_diacritics(name.split(" ")[-1]).lower()


# ------------------------------------------------------------------------------------------ keyed again
def test_rows_keyed_again_are_the_same_person_in_the_same_file(root, citizens, files, dirt):
    keyed = pl.read_csv(root / "truth" / "duplicate_rows.csv")
    assert keyed.columns == [
        "source_file", "row_number", "person_seq", "original_source_file", "original_row_number", "kinds",
    ]  # fmt: skip
    loaded = files.filter((pl.col("source") == "citizens") & (pl.col("status") == "loaded"))
    per_file = keyed.group_by("source_file").len()
    assert set(per_file["source_file"]) == set(loaded["source_file"])
    assert per_file["len"].min() >= 2
    # the copies are neither real rows of the lineage nor planted quarantine rows
    assert keyed.join(citizens, on=["source_file", "row_number"], how="semi").height == 0
    assert keyed.join(dirt, on=["source_file", "row_number"], how="semi").height == 0
    assert (keyed["source_file"] == keyed["original_source_file"]).all()

    originals = keyed.join(
        citizens,
        left_on=["original_source_file", "original_row_number", "person_seq"],
        right_on=["source_file", "row_number", "person_seq"],
        how="inner",
    )
    assert originals.height == keyed.height  # each points at the real row of that person
    seen: set[str] = set()
    for row in originals.iter_rows(named=True):
        kinds = set(row["kinds"].split(";"))
        seen |= kinds
        assert kinds and kinds <= KEYED_KINDS, row
        assert not {"id_missing", "name_typo", "dob_day_month_swapped"} <= kinds, row
        assert (
            not {"name_typo", "name_no_diacritics"} <= kinds and not {"id_missing", "id_lost_zeros"} <= kinds
        )
        copy = _delivered(root, row["source_file"], row["row_number"])
        original = _delivered(root, row["source_file"], row["original_row_number"])
        assert copy != original, row  # never an exact duplicate row
        assert row["original_row_number"] < row["row_number"]
        # what stays: sex, household, group, residence type
        assert {"nam": "M", "nu": "F"}[_norm(copy["sex"])] == row["sex"]
        assert copy["household_id"] == row["household_id"]
        assert parse_group(copy["residential_group"]) == row["residential_group_no"]
        assert _norm(copy["residence_type"]).replace(" ", "_") == row["residence_type"]
        # what changes, kind by kind; the rest reads back to the person
        citizen_id = parse_id(copy.get("citizen_id"))
        if "id_missing" in kinds:
            assert citizen_id is None
        else:
            assert citizen_id == row["citizen_id"]
            if "id_lost_zeros" in kinds:
                assert str(copy["citizen_id"]).strip() != row["citizen_id"]
        name = clean_name(copy["full_name"])
        if "name_typo" in kinds:
            assert name != row["full_name"] and _surname(name) == _surname(row["full_name"])
            assert len(name.split()) == len(row["full_name"].split())
        elif "name_no_diacritics" in kinds:
            assert name == strip_diacritics(row["full_name"]) != row["full_name"]
        else:
            assert name == row["full_name"]
        born = row["date_of_birth"]
        if "dob_day_month_swapped" in kinds:
            assert born.day <= 12 and born.day != born.month
            assert parse_date(copy["date_of_birth"]) == date(born.year, born.day, born.month)
        else:
            assert parse_date(copy["date_of_birth"]) == born
        if "phone_missing" in kinds:
            assert row["phone"] is not None and copy.get("phone") is None
        else:
            assert parse_phone(copy.get("phone")) == row["phone"]
    assert {"id_missing", "name_typo", "name_no_diacritics", "phone_missing"} <= seen
    assert originals["kinds"].str.contains("id_missing").mean() > 0.5  # most lost the ID


def test_typos_keep_a_name_one_letter_away():
    import numpy as np

    from ward.generate.dirt import name_typo

    rng = np.random.default_rng(1)
    for raw in ["Nguyễn Văn Hùng", "Trần Thị Lan", "Lê Minh Khánh", "Phạm Thị Thanh Vy", "Đỗ Hoàng Long"]:
        for _ in range(20):
            typo = name_typo(raw, rng)
            assert typo != raw and typo.split()[0] == raw.split()[0]
            assert len(typo.split()) == len(raw.split())
            changed = [(a, b) for a, b in zip(raw.split(), typo.split(), strict=True) if a != b]
            assert len(changed) == 1
            a, b = changed[0]
            assert abs(len(a) - len(b)) <= 1


def test_keyed_again_rows_change_no_truth(root, citizens):
    """One person counts once: the truth has one clean row per person and snapshot."""
    assert citizens.select("snapshot_date", "person_seq").is_duplicated().sum() == 0
    truth = pl.read_csv(root / "truth" / "mart_population_by_group.csv")
    ward_rows = truth.filter(pl.col("residential_group_no").is_null()).sort("snapshot_date")
    assert ward_rows["residents"].to_list() == [
        citizens.filter(pl.col("snapshot_date") == d)["is_resident"].sum()
        for d in sorted(citizens["snapshot_date"].unique())
    ]


# ------------------------------------------------------------------------------------------ look-alikes
def test_twins_share_surname_birth_date_sex_and_household(root, citizens):
    twins = pl.read_csv(root / "truth" / "twins.csv")
    assert twins.columns == ["person_seq_a", "person_seq_b"] and twins.height >= 3
    days = citizens["snapshot_date"].unique().to_list()
    for a, b in twins.iter_rows():
        for day in days:
            rows = citizens.filter((pl.col("snapshot_date") == day) & pl.col("person_seq").is_in([a, b]))
            assert rows.height == 2, (a, b, day)  # both listed in every snapshot
            x, y = rows.iter_rows(named=True)
            assert _surname(x["full_name"]) == _surname(y["full_name"])
            assert x["date_of_birth"] == y["date_of_birth"] and x["date_of_birth_precision"] == "day"
            assert y["date_of_birth_precision"] == "day"
            assert x["sex"] == y["sex"] and x["household_id"] == y["household_id"]
            assert x["citizen_id"] != y["citizen_id"]
            assert _given(x["full_name"]) != _given(y["full_name"])
    twin_rows = citizens.filter(pl.col("person_seq").is_in(twins.to_numpy().ravel().tolist()))
    assert (twin_rows["citizen_id_delivered"] == "missing").sum() >= 1  # the linker must tell them apart


def test_namesakes_share_a_name_in_one_group(root, citizens):
    namesakes = pl.read_csv(root / "truth" / "namesakes.csv")
    assert namesakes.columns == ["person_seq_a", "person_seq_b"]
    people = citizens.select("snapshot_date", "person_seq", "full_name", "sex", "residential_group_no")
    keys = ["snapshot_date", "full_name", "sex", "residential_group_no"]
    expected = (
        people.join(people, on=keys, suffix="_b")
        .filter(pl.col("person_seq") < pl.col("person_seq_b"))
        .select(person_seq_a="person_seq", person_seq_b="person_seq_b")
        .unique()
    )
    assert sorted(expected.iter_rows()) == sorted(namesakes.iter_rows())
    by_seq = citizens.group_by("person_seq").agg(pl.col("household_id", "date_of_birth").first())
    pairs = namesakes.join(by_seq, left_on="person_seq_a", right_on="person_seq").join(
        by_seq, left_on="person_seq_b", right_on="person_seq", suffix="_b"
    )
    different = pairs.filter(
        (pl.col("household_id") != pl.col("household_id_b"))
        & (pl.col("date_of_birth") != pl.col("date_of_birth_b"))
    )
    assert different.height >= 3


# ------------------------------------------------------------------------------------------ findings
def test_death_after_the_extract_date_on_a_living_resident(root, citizens, dirt, files):
    rows = _planted(dirt, citizens, "death_after_extract")
    assert set(rows["snapshot_date"]) == set(citizens["snapshot_date"])
    extract = dict(files.select("source_file", "extract_date").iter_rows())
    for row in rows.iter_rows(named=True):
        got = parse_date(_delivered(root, row["source_file"], row["row_number"])["date_of_death"])
        assert isinstance(got, date) and got > extract[row["source_file"]]
        assert row["date_of_death"] is None and row["is_alive"] and row["is_resident"]
    # no other kept row delivers a date of death
    marked = set(rows.select("source_file", "row_number").iter_rows())
    for row in citizens.filter(pl.col("date_of_death").is_null()).iter_rows(named=True):
        if (row["source_file"], row["row_number"]) not in marked:
            assert _delivered(root, row["source_file"], row["row_number"]).get("date_of_death") is None


def test_second_heads_claim_chu_ho_beside_the_real_head(root, citizens, households, dirt):
    rows = _planted(dirt, citizens, "second_head")
    assert set(rows["snapshot_date"]) == set(citizens["snapshot_date"])
    for row in rows.iter_rows(named=True):
        got = _delivered(root, row["source_file"], row["row_number"])["relation_to_head"]
        assert got == "Chủ hộ" and row["relation_to_head"] != "Chủ hộ" and row["is_resident"]
        day = row["snapshot_date"]
        assert row["date_of_birth"] <= day.replace(year=day.year - 18)  # an adult
        same_day = households.filter(pl.col("snapshot_date") == row["snapshot_date"])
        (head,) = same_day.filter(pl.col("household_id") == row["household_id"])["head_citizen_id"]
        assert head != row["citizen_id"]
    assert rows.select("snapshot_date", "household_id").is_duplicated().sum() == 0


def test_residents_of_unknown_households(root, citizens, households, dirt):
    rows = _planted(dirt, citizens, "household_unknown")
    assert set(rows["snapshot_date"]) == set(citizens["snapshot_date"])
    for row in rows.iter_rows(named=True):
        known = households.filter(pl.col("snapshot_date") == row["snapshot_date"])["household_id"]
        assert row["household_id"] not in known.to_list()
        assert _delivered(root, row["source_file"], row["row_number"])["household_id"] == row["household_id"]
        assert row["is_resident"] and row["relation_to_head"] != "Chủ hộ"


def test_member_count_counts_every_person_listed(citizens, households):
    listed = citizens.group_by("snapshot_date", "household_id").agg(
        listed=pl.col("person_seq").n_unique(),
        residents=pl.col("is_resident").sum(),
        absent=(pl.col("residence_type") == "tam_vang").sum(),
    )
    both = households.join(listed, on=["snapshot_date", "household_id"], how="left").with_columns(
        pl.col("listed", "residents", "absent").fill_null(0)
    )
    assert both["snapshot_date"].n_unique() == 2
    for _, day in both.group_by("snapshot_date"):  # every households snapshot, not only the latest
        assert (day["member_count_wrong"] == (day["member_count"] != day["listed"])).all()
        assert 0 < day["member_count_wrong"].sum() < day.height
        assert (day["members_listed"] == day["listed"]).all() and (day["members"] == day["residents"]).all()
        # households with a Tạm vắng member, counted right: not the residents' count
        with_absent = day.filter((pl.col("absent") > 0) & ~pl.col("member_count_wrong"))
        assert with_absent.height > 0
        assert (with_absent["member_count"] > with_absent["residents"]).all()
