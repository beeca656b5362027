"""The dirt of extract-spec, planted at known rates, each occurrence logged for truth/dirt.csv.

Five families. Rates are shares of a file's real rows (per file, rate × rows rounded up or down at
random by its fraction, so the rates hold in total even over small weekly files; "at least 1" where
marked, so small wards show every kind). The rows are drawn at random; one cell gets at most one
presentation dirt (NFD, upper case, spaces are exclusive), content dirt (tone placement, Ð) may
come on top.

Recoverable (the row is kept and means exactly what the clean ward says):

| kind                  | source: column                      | rate                                 |
|-----------------------|-------------------------------------|--------------------------------------|
| name_eth_d            | every name column                   | as the name lists write it (`Ð`), ~6%|
| name_old_tone         | full_name, head_name, applicant_name| 50% of names with an oa/oe/uy        |
|                       |                                     | syllable (`Hoà`, `Thuý`, `Khoẻ`)     |
| name_nfd              | the same                            | 2% (every cp1258 file is NFD too)    |
| name_upper            | the same                            | 1%                                   |
| name_extra_spaces     | the same                            | 1%                                   |
| sex_variant           | citizens: sex                       | 3% (nam, NAM, Nu, Nư, nữ, NỮ)        |
| id_lost_zeros         | citizen_id, head_citizen_id,        | 2% in CSV; 30% in xlsx (number cells)|
|                       | applicant_id                        |                                      |
| date_other_format     | date_of_birth; due_at, completed_at | 3%; 2%: another listed text form     |
| date_only             | service_records: received_at        | 2%: the date without the time        |
| date_excel_serial     | date_of_birth (xlsx only)           | 10% of exact dates: a bare number    |
| phone_plus84/_84/     | phone, applicant_phone              | 6% of phones, the five forms in turn |
| _spaces/_dots/        |                                     | (11-digit only where the prefix was  |
| _old_11_digits        |                                     | converted in 2018)                   |
| group_variant         | residential_group                   | 5%: another of the five forms (one   |
|                       |                                     | form mixes all five on every row)    |
| enum_variant          | residence_type, relation_to_head,   | 2% each: lower, UPPER or without     |
|                       | marital_status, household_type,     | diacritics                           |
|                       | channel, status                     |                                      |
| nationality_empty     | citizens: nationality               | 10% (means Việt Nam)                 |
| supplement_empty      | service_records: supplement_count   | 30% of zeros (means 0)               |
| member_count_wrong    | households: member_count            | 2% (kept; differs from the persons   |
|                       |                                     | listed: see Households below)        |

Kept, but the identifier is lost (the person still counts, as a person without a usable ID):

| id_scientific         | citizens: citizen_id                | 0.5% (`3.10950E+10`), at least 1 a   |
|                       |                                     | file                                 |
| id_missing            | citizens: citizen_id                | 0.5%, at least 1 a file              |
| head_id_scientific    | households: head_citizen_id         | 0.3%, at least 1 a file              |

Kept, and a finding: what the world sends, planted by ward/generate/world.py on the clean citizens
snapshots (rates of the snapshot's rows; the same persons in every snapshot: living residents, not
heads, listed in both snapshots in one household; see world.py):

| death_after_extract   | citizens: date_of_death             | 0.1%, at least 1 a snapshot: a date  |
|                       |                                     | 1..120 days after the LATEST extract |
|                       |                                     | date (so after every file's); truth: |
|                       |                                     | alive (date_of_death null, counted   |
|                       |                                     | as a resident by residence type)     |
| second_head           | citizens: relation_to_head          | 0.2% of households, at least 1 a     |
|                       |                                     | snapshot, one a household: a member  |
|                       |                                     | delivered as `Chủ hộ`; truth: their  |
|                       |                                     | own relation, the real head stays    |
| household_unknown     | citizens: household_id              | 0.1%, at least 1 a snapshot: listed  |
|                       |                                     | under a household_id of no household |
|                       |                                     | list; truth = the listing (the cell  |
|                       |                                     | is as citizens_clean says), still a  |
|                       |                                     | resident of their group              |
| id_missing (twins)    | citizens: citizen_id                | half the twin pairs (at least 1):    |
|                       |                                     | one twin, one snapshot (on top of    |
|                       |                                     | the 0.5% above)                      |

Kept, the same person again (not in dirt.csv: truth/duplicate_rows.csv, one row per copy, with
source_file, row_number, person_seq, original_source_file, original_row_number, kinds):

| keyed again           | citizens: an extra row of a person  | 0.5% of a file's rows, at least 2 a  |
|                       | of the same file, typed again: one  | file (KEYED_AGAIN): after its        |
|                       | or more of id_missing (70%),        | original; of persons without planted |
|                       | id_lost_zeros (15%), name_typo      | marks, twins or namesakes, whose row |
|                       | (35%: one letter of the middle or   | kept its ID. Never ID missing + name |
|                       | given name: another tone, a         | typo + swapped date together; same   |
|                       | confusable letter, or left out),    | sex, household, group; never equal   |
|                       | name_no_diacritics (20%),           | to the original row (not a           |
|                       | dob_day_month_swapped (50% where    | duplicate_row). Not a new person:    |
|                       | day <= 12 != month), phone_missing  | no truth mart changes; rows_in       |
|                       | (30% of phones)                     | counts them, rows_quarantined not.   |

Households: member_count is what extract-spec says upstream counted, `members_listed` in
households_clean: the DISTINCT persons (person_seq) that the clean citizens snapshot of the same date
lists under that household_id, whatever their residence type (Tạm vắng included) and dead or alive
(the dead still listed count). A row keyed again is the same person: it adds nobody. A
household_unknown person is listed under the unknown id, so counts under it and NOT under the
household they were listed in before. member_count_wrong is exactly member_count != members_listed,
in every households snapshot. (In words a pipeline can check: per household row, the number of
distinct persons among the kept citizens rows of the citizens snapshot with the same extract date
that carry this household_id.) `members` = residents (Thường trú/Tạm trú, alive) pointing to it.

Quarantined (extra rows that are not real persons, households or dossiers; the clean truth is
unchanged). Junk rows fail exactly one quarantine rule of expectations/rules.yml:

| duplicate_row         | every source, column `*`            | 0.3% of rows, at least 1 a snapshot  |
| junk_name_missing     | citizens: full_name                 | 0.2% of rows in all, split evenly    |
| junk_dob_invalid      | citizens: date_of_birth             | over the six kinds, at least 1 each  |
| junk_residence_invalid| citizens: residence_type            | per snapshot                         |
| junk_group_invalid    | citizens, households:               | (groups 97, 98, 99)                  |
|                       | residential_group                   |                                      |
| junk_household_missing| citizens: household_id              |                                      |
| junk_sex_invalid      | citizens: sex                       |                                      |
| junk_household_id_    | households: household_id            | 0.1%, at least 1 per snapshot        |
| missing               |                                     |                                      |
| junk_record_id_missing| service_records: record_id          | 0.05% of versions, at least 1        |
| junk_received_invalid | service_records: received_at        | 0.05% of versions, at least 1        |
| truncated_row         | service_records: `*`                | the cut last row of the truncated    |
|                       |                                     | file                                 |
"""

from __future__ import annotations

import unicodedata
from datetime import date

import numpy as np
import polars as pl

from ward.generate.forms import DATE_STYLES, GROUP_STYLES, XLSX_MARK, Form, date_expr, format_day, render
from ward.generate.reference import load_reference
from ward.generate.rng import count_for, pick
from ward.generate.text import CIVIL_OPEN_SYLLABLE, clean_name, old_tone, strip_diacritics

# Recoverable rates.
NAME_NFD, NAME_UPPER, NAME_SPACES, NAME_OLD_TONE = 0.02, 0.01, 0.01, 0.5
SEX_VARIANT = 0.03
ID_LOST_ZEROS_CSV, ID_LOST_ZEROS_XLSX = 0.02, 0.30
DOB_OTHER_FORMAT, DOB_EXCEL_SERIAL = 0.03, 0.10
SR_DATE_OTHER_FORMAT = 0.02
PHONE_VARIANT = 0.06
GROUP_VARIANT = 0.05
ENUM_VARIANT = 0.02
NATIONALITY_EMPTY = 0.10
SUPPLEMENT_EMPTY = 0.30
# Identifier lost.
ID_SCIENTIFIC, ID_MISSING, HEAD_ID_SCIENTIFIC = 0.005, 0.005, 0.003
# Quarantined extra rows.
DUPLICATE_ROWS = 0.003
CITIZEN_JUNK_TOTAL = 0.002
CITIZEN_JUNK_KINDS = {
    "junk_name_missing": "full_name",
    "junk_dob_invalid": "date_of_birth",
    "junk_residence_invalid": "residence_type",
    "junk_group_invalid": "residential_group",
    "junk_household_missing": "household_id",
    "junk_sex_invalid": "sex",
}
HOUSEHOLD_JUNK_KINDS = {
    "junk_household_id_missing": "household_id",
    "junk_group_invalid": "residential_group",
}
HOUSEHOLD_JUNK_RATE = 0.001
SERVICE_JUNK_KINDS = {"junk_record_id_missing": "record_id", "junk_received_invalid": "received_at"}
SERVICE_JUNK_RATE = 0.0005
JUNK_COLUMNS = {**CITIZEN_JUNK_KINDS, **HOUSEHOLD_JUNK_KINDS, **SERVICE_JUNK_KINDS}

BAD_DATES = ("không rõ", "32/13/1990", "00/00/0000", None)
BAD_RECEIVED = ("không rõ", "31/13/2026", "00/00/0000", None)
BAD_RESIDENCE = ("Khác", "Lưu trú", "Không xác định")
BAD_SEX = ("Khác", "X", None)
OUTSIDE_GROUPS = (97, 98, 99)
EXCEL_EPOCH = date(1899, 12, 30)
NAME_COLUMN = {"citizens": "full_name", "households": "head_name", "service_records": "applicant_name"}
ID_COLUMN = {"citizens": "citizen_id", "households": "head_citizen_id", "service_records": "applicant_id"}
PHONE_COLUMN = {"citizens": "phone", "service_records": "applicant_phone"}
ENUM_COLUMNS = {
    "citizens": ("residence_type", "relation_to_head", "marital_status"),
    "households": ("household_type",),
    "service_records": ("channel", "status"),
}


class Sheet:
    """The delivered cells of one file's real rows, and the log of the dirt planted in them."""

    def __init__(self, source: str, frame: pl.DataFrame, form: Form, rng: np.random.Generator) -> None:
        self.source, self.frame, self.form, self.rng = source, frame, form, rng
        self.n = frame.height
        self._taken: dict[str, np.ndarray] = {}
        self.log_rows: list[np.ndarray] = []
        self.log_kinds: list[str] = []
        self.log_columns: list[str] = []

    def values(self, column: str) -> np.ndarray:
        return self.frame[column].to_numpy()

    def not_null(self, column: str) -> np.ndarray:
        return self.frame[column].is_not_null().to_numpy()

    def count(self, rate: float, n: int) -> int:
        """rate × n rounded up or down at random (by its fraction): small files keep the rate on average."""
        expected = rate * n
        whole = int(expected)
        return whole + int(self.rng.random() < expected - whole)

    def choose(self, column: str, eligible: np.ndarray, count: int) -> np.ndarray:
        """Rows whose cell in `column` is still clean, among `eligible`; marks them taken."""
        taken = self._taken.setdefault(column, np.zeros(self.n, bool))
        rows = pick(self.rng, eligible & ~taken, count)
        taken[rows] = True
        return rows

    def edit(self, column: str, rows: np.ndarray, fn, kind: str | None) -> None:
        if len(rows) == 0:
            return
        old = self.frame[column].gather(rows).to_list()
        new = [fn(v) for v in old]
        self.frame = self.frame.with_columns(
            self.frame[column].scatter(rows, pl.Series(new, dtype=pl.String))
        )
        if kind:
            self.log(rows, kind, column)

    def edit_with_draw(self, column: str, rows: np.ndarray, fn, kind: str) -> None:
        """Like `edit`, with fn(value, u) given one uniform draw per row."""
        draws = iter(self.rng.random(len(rows)).tolist())
        self.edit(column, rows, lambda v: fn(v, next(draws)), kind)

    def log(self, rows: np.ndarray, kind: str, column: str) -> None:
        if len(rows):
            self.log_rows.append(np.asarray(rows, dtype=np.int64))
            self.log_kinds.append(kind)
            self.log_columns.append(column)


# ------------------------------------------------------------------------------------------ cell edits
def lost_zeros(value: str, xlsx: bool) -> str:
    digits = str(int(value))
    return XLSX_MARK + "n" + digits if xlsx else digits


def scientific(value: str) -> str:
    return f"{int(value):.5E}"


def phone_form(value: str, kind: str) -> str:
    if kind == "phone_plus84":
        return f"+84 {value[1:4]} {value[4:7]} {value[7:]}"
    if kind == "phone_84":
        return "84" + value[1:]
    if kind == "phone_spaces":
        return f"{value[:4]} {value[4:7]} {value[7:]}"
    if kind == "phone_dots":
        return f"{value[:4]}.{value[4:7]}.{value[7:]}"
    return load_reference().new_to_old_prefix[value[:3]] + value[3:]


def sex_variant(value: str, u: float) -> str:
    return ("nam", "NAM")[int(u * 2)] if value == "Nam" else ("Nu", "Nư", "nữ", "NỮ")[int(u * 4)]


def enum_variant(value: str, u: float) -> str:
    if u < 0.4:
        return value.lower()
    if u < 0.8:
        return value.upper()
    return strip_diacritics(value)


def extra_spaces(value: str, u: float) -> str:
    words = value.split(" ")
    if u < 0.4:
        return "  ".join(words)
    if u < 0.7:
        return f" {value}  "
    return " ".join(words[:1]) + "   " + " ".join(words[1:])


def serial(d: date) -> str:
    return XLSX_MARK + "n" + str((d - EXCEL_EPOCH).days)


# ------------------------------------------------------------------------------------------ per source
def _names(sheet: Sheet, column: str) -> None:
    present = sheet.not_null(column)
    cp1258 = sheet.form.encoding == "cp1258" and not sheet.form.is_xlsx
    if not cp1258:  # Windows-1258 has no Ð: such files carry Đ
        eth = sheet.frame[column].str.contains("\u00d0", literal=True).fill_null(False).to_numpy()
        sheet.log(np.flatnonzero(eth), "name_eth_d", column)
    older = sheet.frame[column].str.contains(CIVIL_OPEN_SYLLABLE).fill_null(False).to_numpy()
    rows = pick(sheet.rng, present & older, sheet.count(NAME_OLD_TONE, int(older.sum())))
    sheet.edit(column, rows, old_tone, "name_old_tone")
    if not cp1258:
        sheet.edit(column, sheet.choose(column, present, sheet.count(NAME_NFD, sheet.n)), _nfd, "name_nfd")
    sheet.edit(
        column, sheet.choose(column, present, sheet.count(NAME_UPPER, sheet.n)), str.upper, "name_upper"
    )
    rows = sheet.choose(column, present, sheet.count(NAME_SPACES, sheet.n))
    sheet.edit_with_draw(column, rows, extra_spaces, "name_extra_spaces")


def _nfd(value: str) -> str:
    return unicodedata.normalize("NFD", value)


def _ids(sheet: Sheet, column: str) -> None:
    present = sheet.not_null(column)
    xlsx = sheet.form.is_xlsx
    rate = ID_LOST_ZEROS_XLSX if xlsx else ID_LOST_ZEROS_CSV
    rows = sheet.choose(column, present, sheet.count(rate, int(present.sum())))
    sheet.edit(column, rows, lambda v: lost_zeros(v, xlsx), "id_lost_zeros")


def _phones(sheet: Sheet, column: str) -> None:
    present = sheet.not_null(column)
    rows = sheet.choose(column, present, sheet.count(PHONE_VARIANT, int(present.sum())))
    kinds = ("phone_plus84", "phone_84", "phone_spaces", "phone_dots", "phone_old_11_digits")
    kinds = tuple(kinds[i] for i in sheet.rng.permutation(len(kinds)))  # small files see every form in time
    convertible = set(load_reference().new_to_old_prefix)
    values = sheet.values(column)
    for i, kind in enumerate(kinds):
        these = rows[i :: len(kinds)]
        if kind == "phone_old_11_digits":
            ok = np.array([values[r][:3] in convertible for r in these], dtype=bool)
            sheet.edit(column, these[~ok], lambda v: phone_form(v, "phone_plus84"), "phone_plus84")
            these = these[ok]
        sheet.edit(column, these, lambda v, k=kind: phone_form(v, k), kind)


def _enums(sheet: Sheet) -> None:
    for column in ENUM_COLUMNS[sheet.source]:
        present = sheet.not_null(column)
        rows = sheet.choose(column, present, sheet.count(ENUM_VARIANT, sheet.n))
        sheet.edit_with_draw(column, rows, enum_variant, "enum_variant")


def _groups(sheet: Sheet, clean: pl.DataFrame) -> None:
    rows = sheet.choose("residential_group", np.ones(sheet.n, bool), sheet.count(GROUP_VARIANT, sheet.n))
    if not len(rows):
        return
    numbers = clean["residential_group_no"].gather(rows).to_list()
    own = sheet.form.group_style
    if own is None:  # the file already mixes every form, row by row
        sheet._taken["residential_group"][rows] = False
        return
    choices = [i for i in range(len(GROUP_STYLES)) if i != own]
    styles = sheet.rng.choice(choices, size=len(rows))
    new = [GROUP_STYLES[s].format(n=g) for s, g in zip(styles.tolist(), numbers, strict=True)]
    sheet.frame = sheet.frame.with_columns(
        sheet.frame["residential_group"].scatter(rows, pl.Series(new, dtype=pl.String))
    )
    sheet.log(rows, "group_variant", "residential_group")


def _other_date_format(
    sheet: Sheet, clean: pl.DataFrame, column: str, rate: float, eligible: np.ndarray
) -> None:
    rows = sheet.choose(column, eligible & sheet.not_null(column), sheet.count(rate, sheet.n))
    if not len(rows):
        return
    days = clean[column].gather(rows)
    if sheet.form.is_xlsx:
        styles = ["dmy"] * len(rows)  # a date typed as text in a date column
    else:
        others = [s for s in DATE_STYLES if s != sheet.form.date_style]
        styles = [others[i] for i in sheet.rng.integers(0, len(others), len(rows))]
    with_time = clean[column].dtype == pl.Datetime
    new = [format_day(d, s, with_time) for d, s in zip(days.to_list(), styles, strict=True)]
    sheet.frame = sheet.frame.with_columns(sheet.frame[column].scatter(rows, pl.Series(new, dtype=pl.String)))
    sheet.log(rows, "date_other_format", column)


def _planted(sheet: Sheet, clean: pl.DataFrame) -> None:
    """The rows the world stage marked (ward/generate/world.py), before any other dirt takes a cell."""
    if "planted" not in clean.columns:
        return
    marks = clean["planted"].fill_null("")

    def rows_of(kind: str) -> np.ndarray:
        rows = np.flatnonzero(marks.str.contains(kind, literal=True).to_numpy())
        return rows

    def take(column: str, rows: np.ndarray) -> None:
        sheet._taken.setdefault(column, np.zeros(sheet.n, bool))[rows] = True

    rows = rows_of("id_missing")
    take("citizen_id", rows)
    sheet.edit("citizen_id", rows, lambda v: None, "id_missing")
    rows = rows_of("second_head")
    take("relation_to_head", rows)
    sheet.edit("relation_to_head", rows, lambda v: "Chủ hộ", "second_head")
    rows = rows_of("death_after_extract")
    if len(rows):
        days = clean[rows].select(d=date_expr("planted_death", sheet.form.date_style))["d"]
        sheet.frame = sheet.frame.with_columns(sheet.frame["date_of_death"].scatter(rows, days))
        sheet.log(rows, "death_after_extract", "date_of_death")
    sheet.log(rows_of("household_unknown"), "household_unknown", "household_id")


def dirty_citizens(sheet: Sheet, clean: pl.DataFrame) -> None:
    xlsx = sheet.form.is_xlsx
    _planted(sheet, clean)
    _names(sheet, "full_name")
    # Identifiers: lost for good (kept rows), then lost leading zeros (recoverable).
    present = sheet.not_null("citizen_id")
    rows = sheet.choose("citizen_id", present, count_for(ID_SCIENTIFIC, sheet.n))
    sheet.edit("citizen_id", rows, scientific, "id_scientific")
    rows = sheet.choose("citizen_id", present, count_for(ID_MISSING, sheet.n))
    sheet.edit("citizen_id", rows, lambda v: None, "id_missing")
    _ids(sheet, "citizen_id")
    rows = sheet.choose("sex", np.ones(sheet.n, bool), sheet.count(SEX_VARIANT, sheet.n))
    sheet.edit_with_draw("sex", rows, sex_variant, "sex_variant")
    exact = (clean["date_of_birth_precision"] == "day").to_numpy()
    _other_date_format(sheet, clean, "date_of_birth", DOB_OTHER_FORMAT, exact)
    if xlsx:
        rows = sheet.choose("date_of_birth", exact, sheet.count(DOB_EXCEL_SERIAL, int(exact.sum())))
        dob = clean["date_of_birth"].gather(rows).to_list()
        new = [serial(d) for d in dob]
        if len(rows):
            sheet.frame = sheet.frame.with_columns(
                sheet.frame["date_of_birth"].scatter(rows, pl.Series(new, dtype=pl.String))
            )
            sheet.log(rows, "date_excel_serial", "date_of_birth")
    _phones(sheet, "phone")
    _groups(sheet, clean)
    _enums(sheet)
    rows = sheet.choose("nationality", sheet.not_null("nationality"), sheet.count(NATIONALITY_EMPTY, sheet.n))
    sheet.edit("nationality", rows, lambda v: None, "nationality_empty")


def dirty_households(sheet: Sheet, clean: pl.DataFrame) -> None:
    _names(sheet, "head_name")
    present = sheet.not_null("head_citizen_id")
    rows = sheet.choose("head_citizen_id", present, count_for(HEAD_ID_SCIENTIFIC, sheet.n))
    sheet.edit("head_citizen_id", rows, scientific, "head_id_scientific")
    _ids(sheet, "head_citizen_id")
    _groups(sheet, clean)
    _enums(sheet)
    sheet.log(np.flatnonzero(clean["member_count_wrong"].to_numpy()), "member_count_wrong", "member_count")


def dirty_service_records(sheet: Sheet, clean: pl.DataFrame) -> None:
    _names(sheet, "applicant_name")
    _ids(sheet, "applicant_id")
    _phones(sheet, "applicant_phone")
    _enums(sheet)
    everyone = np.ones(sheet.n, bool)
    _other_date_format(sheet, clean, "due_at", SR_DATE_OTHER_FORMAT, everyone)
    _other_date_format(sheet, clean, "completed_at", SR_DATE_OTHER_FORMAT, everyone)
    rows = sheet.choose("received_at", everyone, sheet.count(SR_DATE_OTHER_FORMAT, sheet.n))
    if len(rows):
        style = "dmy" if sheet.form.is_xlsx else sheet.form.date_style
        days = clean["received_at"].gather(rows).to_list()
        new = [format_day(d, style) for d in days]
        sheet.frame = sheet.frame.with_columns(
            sheet.frame["received_at"].scatter(rows, pl.Series(new, dtype=pl.String))
        )
        sheet.log(rows, "date_only", "received_at")
    zero = (clean["supplement_count"] == 0).to_numpy()
    rows = sheet.choose("supplement_count", zero, sheet.count(SUPPLEMENT_EMPTY, int(zero.sum())))
    sheet.edit("supplement_count", rows, lambda v: None, "supplement_empty")


DIRTY = {"citizens": dirty_citizens, "households": dirty_households, "service_records": dirty_service_records}


# ------------------------------------------------------------------------------------------ junk rows
def junk_rows(
    source: str,
    clean: pl.DataFrame,
    form: Form,
    kinds: list[str],
    rng: np.random.Generator,
    known_ids: np.ndarray,
) -> pl.DataFrame:
    """Rendered rows that are not real: each a real row of the file as template, with a fresh
    identity, and exactly one cell broken per `kinds` (in order)."""
    if not kinds:
        return render(source, clean.head(0), form, rng)
    template = clean[rng.integers(0, clean.height, len(kinds))]
    ref = load_reference()
    k = len(kinds)
    if source == "citizens":
        female = rng.random(k) < 0.5
        given = [
            ref.given_female[rng.integers(len(ref.given_female))]
            if f
            else ref.given_male[rng.integers(len(ref.given_male))]
            for f in female
        ]
        raw = [
            f"{ref.surnames[s]} {g}"
            for s, g in zip(rng.choice(len(ref.surnames), k, p=ref.surname_p), given, strict=True)
        ]
        year = rng.integers(1950, 2010, k)
        days = [
            date(int(y), int(m), int(d))
            for y, m, d in zip(year, rng.integers(1, 13, k), rng.integers(1, 29, k), strict=True)
        ]
        ids = _fresh_ids(rng, year, female, known_ids)
        template = template.with_columns(
            citizen_id=pl.Series(ids, dtype=pl.String),
            legacy_id=pl.lit(None, dtype=pl.String),
            raw_name=pl.Series(raw, dtype=pl.String),
            full_name=pl.Series([clean_name(v) for v in raw], dtype=pl.String),
            sex=pl.Series(np.where(female, "F", "M")),
            date_of_birth=pl.Series(days, dtype=pl.Date),
            date_of_birth_precision=pl.lit("day"),
            relation_to_head=pl.lit("Khác"),
            date_of_death=pl.lit(None, dtype=pl.Date),
        )
    elif source == "households":
        template = template.with_columns(
            household_id=pl.Series(
                [f"HGD-11446-9{v:05d}" for v in rng.integers(0, 10**5, k)], dtype=pl.String
            )
        )
    else:
        template = template.with_columns(
            record_id=pl.Series(
                [f"H31.11446-000000-9{v:04d}" for v in rng.integers(0, 10**4, k)], dtype=pl.String
            )
        )
    groups = (
        template["residential_group_no"].to_numpy().copy()
        if "residential_group_no" in template.columns
        else None
    )
    if groups is not None:
        for i, kind in enumerate(kinds):
            if kind == "junk_group_invalid":
                groups[i] = OUTSIDE_GROUPS[int(rng.integers(len(OUTSIDE_GROUPS)))]
        template = template.with_columns(residential_group_no=pl.Series(groups, dtype=pl.Int64))
    rows = render(source, template, form, rng)
    for i, kind in enumerate(kinds):
        column = JUNK_COLUMNS[kind]
        bad = {
            "junk_name_missing": [None],
            "junk_dob_invalid": BAD_DATES,
            "junk_residence_invalid": BAD_RESIDENCE,
            "junk_household_missing": [None],
            "junk_sex_invalid": BAD_SEX,
            "junk_household_id_missing": [None],
            "junk_record_id_missing": [None],
            "junk_received_invalid": BAD_RECEIVED,
        }.get(kind)
        if bad is not None:
            value = bad[int(rng.integers(len(bad)))]
            rows = rows.with_columns(rows[column].scatter([i], pl.Series([value], dtype=pl.String)))
    return rows


def _fresh_ids(
    rng: np.random.Generator, year: np.ndarray, female: np.ndarray, known: np.ndarray
) -> list[str]:
    """IDs of nobody in the ward (`known`: the ward's IDs as sorted integers)."""
    g = (year // 100 - 19) * 2 + female.astype(np.int64)
    while True:
        ids = 31 * 10**9 + g * 10**8 + (year % 100) * 10**6 + rng.integers(0, 10**6, len(year))
        at = np.minimum(np.searchsorted(known, ids), len(known) - 1)
        if not (known[at] == ids).any() and len(np.unique(ids)) == len(ids):
            return [f"{v:012d}" for v in ids.tolist()]


# ------------------------------------------------------------------------------------------ keyed again
KEYED_AGAIN, KEYED_AGAIN_MIN = 0.005, 2  # rows of a citizens file keyed again by hand: rate, floor
# (probability, kind) of each perturbation of a keyed-again row; at most one of each group.
KEYED_ID = ((0.70, "id_missing"), (0.15, "id_lost_zeros"))  # else the ID as it was
KEYED_NAME = ((0.35, "name_typo"), (0.20, "name_no_diacritics"))
KEYED_DOB = 0.50  # dob_day_month_swapped, where the day is 1..12 and not the month
KEYED_PHONE = 0.30  # phone_missing, where there was a phone
TONE_CHOICES = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
CONFUSED_INITIAL = {"L": "N", "N": "L", "S": "X", "X": "S", "D": "Đ", "Đ": "D", "\u00d0": "D"}


def _retone(word: str, u: float) -> str | None:
    """Another tone on the word's vowel (`Hùng` -> `Húng`, `Lan` -> `Lán`, `Ngọc` -> `Ngóc`)."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in TONE_CHOICES[1:]]
    current = tones[0] if tones else ""
    base = "".join(c for c in decomposed if c not in TONE_CHOICES[1:])
    vowels = [i for i, c in enumerate(base) if c.lower() in "aeiouy" and base[i - 1 : i].lower() != "q"]
    if not vowels:
        return None
    marked = [i for i in vowels if base[i + 1 : i + 2] in ("\u0302", "\u0306", "\u031b")]
    if marked:  # â ê ô ă ơ ư carry the tone
        at = marked[-1]
    elif len(vowels) == 1 or vowels[-1] < len(base) - 1:  # one vowel, or a closed syllable
        at = vowels[-1]
    else:  # an open syllable of two vowels: the first (Mái, Hóa)
        at = vowels[-2]
    end = at + 1  # the tone goes after the vowel's own marks (circumflex, breve, horn)
    while end < len(base) and unicodedata.combining(base[end]):
        end += 1
    others = [t for t in TONE_CHOICES if t != current]
    mark = others[min(int(u * len(others)), len(others) - 1)]
    return unicodedata.normalize("NFC", base[:end] + mark + base[end:])


def _drop_letter(word: str) -> str | None:
    """A letter left out where the eye slips: `Thanh` -> `Than`, `Hoàng` -> `Hoàn`, `Khánh` -> `Kánh`."""
    if len(word) >= 4 and word.endswith(("nh", "ng", "ch")):
        return word[:-1]
    if len(word) >= 4 and word[1:2] == "h" and word[0] in "TKNGPC":
        return word[0] + word[2:]
    return None


def _substitute(word: str) -> str | None:
    """A confusable letter: `Lan` -> `Nan`, `Sơn` -> `Xơn`, `Dũng` -> `Đũng`, `Vi` -> `Vy`."""
    if word[:1] in CONFUSED_INITIAL:
        return CONFUSED_INITIAL[word[0]] + word[1:]
    if len(word) >= 2 and word[-1] in "iy" and word[-2].lower() not in "aeiouyăâêôơư":
        return word[:-1] + ("y" if word[-1] == "i" else "i")
    return None


def name_typo(raw: str, rng: np.random.Generator) -> str:
    """One letter of the middle or given name substituted (another tone, a confusable letter) or
    left out; Vietnamese-looking, the surname untouched."""
    words = raw.split(" ")
    for _ in range(20):
        at = 1 + int(rng.integers(len(words) - 1))
        word, u = words[at], float(rng.random())
        new = (
            _retone(word, rng.random()) if u < 0.45 else _substitute(word) if u < 0.7 else _drop_letter(word)
        )
        if new and new != word:
            return " ".join([*words[:at], new, *words[at + 1 :]])
    words[-1] = _retone(words[-1], 0.5) or words[-1] + "h"
    return " ".join(words)


def keyed_again(
    clean: pl.DataFrame, form: Form, rng: np.random.Generator, count: int, eligible: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray, list[str]]:
    """Rows keyed again by hand: for `count` eligible clean rows, a copy in the file's form with one
    or more of the KEYED_* perturbations, never all three of ID missing, name typo and day/month
    swapped. Returns the rendered copies, the clean rows they copy and their `;`-joined kinds."""
    rows = pick(rng, eligible, count)
    if not len(rows):
        return render("citizens", clean.head(0), form, rng), rows, []
    copy = clean[rows]
    ids, raw = copy["citizen_id"].to_list(), copy["raw_name"].to_list()
    dob, phone = copy["date_of_birth"].to_list(), copy["phone"].to_list()
    exact = (copy["date_of_birth_precision"] == "day").to_list()
    day = copy["snapshot_date"][0]
    kinds: list[list[str]] = []
    for i in range(len(rows)):
        u = rng.random(4)
        chosen = []
        if u[0] < KEYED_ID[0][0]:
            chosen.append("id_missing")
        elif u[0] < KEYED_ID[0][0] + KEYED_ID[1][0] and ids[i].startswith("0"):
            chosen.append("id_lost_zeros")
        if u[1] < KEYED_NAME[0][0]:
            chosen.append("name_typo")
        elif u[1] < KEYED_NAME[0][0] + KEYED_NAME[1][0] and strip_diacritics(raw[i]) != raw[i]:
            chosen.append("name_no_diacritics")
        d = dob[i]
        swappable = exact[i] and d.day <= 12 and d.day != d.month
        if u[2] < KEYED_DOB and swappable and d.replace(month=d.day, day=d.month) <= day:
            chosen.append("dob_day_month_swapped")
        if u[3] < KEYED_PHONE and phone[i] is not None:
            chosen.append("phone_missing")
        if {"id_missing", "name_typo", "dob_day_month_swapped"} <= set(chosen):
            chosen.remove(("name_typo", "dob_day_month_swapped")[int(rng.integers(2))])
        if not chosen:
            chosen.append("id_missing")
        kinds.append(chosen)
        if "id_missing" in chosen:
            ids[i] = None
        if "name_typo" in chosen:
            raw[i] = name_typo(raw[i], rng)
        elif "name_no_diacritics" in chosen:
            raw[i] = strip_diacritics(raw[i])
        if "dob_day_month_swapped" in chosen:
            dob[i] = d.replace(month=d.day, day=d.month)
        if "phone_missing" in chosen:
            phone[i] = None
    copy = copy.with_columns(
        citizen_id=pl.Series(ids, dtype=pl.String),
        raw_name=pl.Series(raw, dtype=pl.String),
        date_of_birth=pl.Series(dob, dtype=pl.Date),
        phone=pl.Series(phone, dtype=pl.String),
    )
    cells = render("citizens", copy, form, rng)
    lost = [i for i, k in enumerate(kinds) if "id_lost_zeros" in k]
    if lost:
        values = cells["citizen_id"].gather(lost).to_list()
        new = [lost_zeros(v, form.is_xlsx) for v in values]
        cells = cells.with_columns(cells["citizen_id"].scatter(lost, pl.Series(new, dtype=pl.String)))
    return cells, rows, [";".join(k) for k in kinds]
