"""File forms: how one extract file writes its headers and cells before any row-level dirt.

A `Form` fixes a file's format (CSV or xlsx), encoding, separator, line ends, header style, date
style, the way it writes residential groups, and whether its columns are shuffled, extra or missing.
`render` turns clean rows into the cells as that form delivers them (text; in xlsx forms some cells
carry a type marker, see `XLSX_MARK`, so that dates are date cells and counts are numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ward.generate.population import RESIDENCE_CODES, RESIDENCE_WORDS
from ward.generate.text import strip_diacritics
from ward.sources import Source

# In xlsx forms a cell may be "\x01d2026-10-01" (date cell), "\x01t2026-10-01 08:00:00" (date-time
# cell) or "\x01n12" (number cell); every other value is a text cell.
XLSX_MARK = "\x01"

GROUP_STYLES = ("Tổ dân phố số {n}", "TDP {n}", "Tổ {n}", "{n}", "TDP số {n:02d}")
DATE_STYLES = {  # style -> (date format, date-time format)
    "dmy": ("%d/%m/%Y", "%d/%m/%Y %H:%M:%S"),
    "dmy_short": ("%-d/%-m/%Y", "%-d/%-m/%Y %H:%M:%S"),
    "iso": ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"),
    "dmy_dash": ("%d-%m-%Y", "%d-%m-%Y %H:%M:%S"),
}
TEXT_DATE_STYLES = tuple(DATE_STYLES)
SEX_WORDS = {"M": "Nam", "F": "Nữ"}
CHANNEL_WORDS = {"truc_tiep": "Trực tiếp", "truc_tuyen": "Trực tuyến", "buu_chinh": "Bưu chính công ích"}
DATE_COLUMNS = {
    "citizens": ("date_of_birth", "date_of_death", "updated_at"),
    "households": ("updated_at",),
    "service_records": ("due_at",),
}
DATETIME_COLUMNS = {"service_records": ("received_at", "completed_at", "updated_at")}
NUMBER_COLUMNS = {"households": ("member_count",), "service_records": ("supplement_count",)}
EXTRA_COLUMN = "Ghi chú"
EXTRA_NOTE_SHARE = 0.05  # rows with something written in the extra column
EXTRA_NOTES = ("Đã xác minh", "Chuyển đến", "Cần bổ sung giấy tờ", "Đang làm CCCD", "Hộ khó khăn")


@dataclass(frozen=True)
class Form:
    key: str
    file_format: str = "csv"  # csv | xlsx
    encoding: str = "utf-8"  # utf-8 | utf-8-sig | utf-16 | cp1258 (csv only)
    separator: str = ","
    crlf: bool = False
    header_style: str = "vi"  # vi | vi_alias | ascii_upper | ascii_lower | vi_messy | snake
    date_style: str = "dmy"  # a DATE_STYLES key, or "xlsx" (date cells)
    group_style: int | None = 0  # index into GROUP_STYLES; None = a different style on every row
    shuffle: bool = False
    extra_column: bool = False
    drop_columns: tuple[str, ...] = ()

    @property
    def is_xlsx(self) -> bool:
        return self.file_format == "xlsx"

    def describe(self, source: str) -> str:
        if self.is_xlsx:
            parts = ["xlsx with title and footer lines"]
        else:
            sep = {",": "comma", ";": "semicolon", "\t": "tab"}[self.separator]
            parts = [f"csv {self.encoding} {sep}{' crlf' if self.crlf else ''}"]
        parts += [f"headers {self.header_style}", f"dates {self.date_style}"]
        if source != "service_records":
            groups = "mixed" if self.group_style is None else repr(GROUP_STYLES[self.group_style].format(n=5))
            parts.append(f"groups {groups}")
        if self.shuffle:
            parts.append("shuffled columns")
        if self.extra_column:
            parts.append(f"extra column {EXTRA_COLUMN}")
        if self.drop_columns:
            parts.append("without " + ", ".join(self.drop_columns))
        return "; ".join(parts)


def columns_for(source: Source, form: Form, rng: np.random.Generator) -> list[str]:
    """The canonical columns a file of this form carries, in the order it writes them."""
    columns = [c for c in source.column_names if c not in form.drop_columns]
    if form.shuffle:
        columns = [columns[i] for i in rng.permutation(len(columns))]
    return columns


def headers_for(source: Source, columns: list[str], form: Form, rng: np.random.Generator) -> list[str]:
    """Header texts for the columns (plus the extra column when the form has one)."""
    by_name = {c.name: c for c in source.columns}
    out = []
    for name in columns:
        col = by_name[name]
        text = col.header
        style = form.header_style
        if style == "vi_alias" and col.aliases:
            text = col.aliases[-1] if "," in col.aliases[-1] else col.aliases[0]
        elif style == "ascii_upper":
            text = strip_diacritics(text).upper()
        elif style == "ascii_lower":
            text = strip_diacritics(text).lower()
        elif style == "snake":
            text = name
        elif style == "vi_messy":
            text = _messy(text, rng)
        out.append(text)
    if form.extra_column:
        out.append({"ascii_upper": "GHI CHU", "ascii_lower": "ghi chu"}.get(form.header_style, EXTRA_COLUMN))
    return out


def _messy(text: str, rng: np.random.Generator) -> str:
    """A header as hand-edited spreadsheets write it: odd case, stray spaces, a line break."""
    u = rng.random(4)
    if u[0] < 0.3:
        text = text.upper()
    elif u[0] < 0.5:
        text = text.lower()
    if u[1] < 0.4 and " " in text:
        words = text.split(" ")
        at = 1 + int(u[2] * (len(words) - 1))
        text = " ".join(words[:at]) + "\n" + " ".join(words[at:])
    if u[3] < 0.5:
        text = f" {text} " if u[3] < 0.25 else f"{text}  "
    return text


def format_day(value, style: str, with_time: bool = False) -> str:
    """A Python date or datetime in one of the text DATE_STYLES (no platform-specific strftime flags)."""
    d, m, y = value.day, value.month, value.year
    text = {
        "dmy": f"{d:02d}/{m:02d}/{y:04d}",
        "dmy_short": f"{d}/{m}/{y:04d}",
        "iso": f"{y:04d}-{m:02d}-{d:02d}",
        "dmy_dash": f"{d:02d}-{m:02d}-{y:04d}",
    }[style]
    return f"{text} {value:%H:%M:%S}" if with_time else text


def group_text(number: int, style: int) -> str:
    return GROUP_STYLES[style].format(n=number)


def _group_expr(form: Form, rng: np.random.Generator, n: int) -> pl.Expr:
    if form.group_style is not None:
        pattern = GROUP_STYLES[form.group_style]
        if pattern == "TDP số {n:02d}":
            return pl.lit("TDP số ") + pl.col("residential_group_no").cast(pl.String).str.zfill(2)
        prefix = pattern.split("{n}")[0]
        return pl.lit(prefix) + pl.col("residential_group_no").cast(pl.String)
    styles = pl.Series(rng.integers(0, len(GROUP_STYLES), n))
    parts = [_group_expr(Form("x", group_style=i), rng, n) for i in range(len(GROUP_STYLES))]
    expr = parts[-1]
    for i in range(len(GROUP_STYLES) - 2, -1, -1):
        expr = pl.when(pl.lit(styles) == i).then(parts[i]).otherwise(expr)
    return expr


def date_expr(column: str, style: str, with_time: bool = False) -> pl.Expr:
    col = pl.col(column)
    if style == "xlsx":
        fmt = "%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d"
        return pl.lit(XLSX_MARK + ("t" if with_time else "d")) + col.dt.strftime(fmt)
    return col.dt.strftime(DATE_STYLES[style][1 if with_time else 0])


def _number_expr(column: str, form: Form) -> pl.Expr:
    text = pl.col(column).cast(pl.String)
    return pl.lit(XLSX_MARK + "n") + text if form.is_xlsx else text


def render(source: str, clean: pl.DataFrame, form: Form, rng: np.random.Generator) -> pl.DataFrame:
    """Clean rows -> delivered cells (all text, canonical column names, every canonical column)."""
    style = form.date_style
    if source == "citizens":
        dob = (
            pl.when(pl.col("date_of_birth_precision") == "year")
            .then(pl.col("date_of_birth").dt.strftime("%Y"))
            .when(pl.col("date_of_birth_precision") == "month")
            .then(pl.col("date_of_birth").dt.strftime("%m/%Y"))
            .otherwise(date_expr("date_of_birth", style))
        )
        return clean.select(
            "citizen_id",
            "legacy_id",
            full_name="raw_name",
            date_of_birth=dob,
            sex=pl.col("sex").replace_strict(SEX_WORDS, return_dtype=pl.String),
            ethnicity="ethnicity",
            religion="religion",
            nationality="nationality",
            hometown="hometown",
            permanent_address="permanent_address",
            current_address="current_address",
            residence_type=pl.col("residence_type").replace_strict(
                dict(zip(RESIDENCE_CODES, RESIDENCE_WORDS, strict=True)), return_dtype=pl.String
            ),
            household_id="household_id",
            relation_to_head="relation_to_head",
            residential_group=_group_expr(form, rng, clean.height),
            phone="phone",
            marital_status="marital_status",
            date_of_death=date_expr("date_of_death", style),
            updated_at=date_expr("updated_at", style),
        )
    if source == "households":
        return clean.select(
            "household_id",
            "head_citizen_id",
            head_name="head_raw_name",
            address="address",
            residential_group=_group_expr(form, rng, clean.height),
            member_count=_number_expr("member_count", form),
            household_type="household_type",
            updated_at=date_expr("updated_at", style),
        )
    if source == "service_records":
        return clean.select(
            "record_id",
            "procedure_code",
            "procedure_name",
            "domain",
            "applicant_id",
            applicant_name="applicant_raw_name",
            applicant_phone="applicant_phone",
            channel=pl.col("channel").replace_strict(CHANNEL_WORDS, return_dtype=pl.String),
            received_at=date_expr("received_at", style, with_time=True),
            due_at=date_expr("due_at", style),
            completed_at=date_expr("completed_at", style, with_time=True),
            status="status",
            supplement_count=_number_expr("supplement_count", form),
            digitized="digitized",
            updated_at=date_expr("updated_at", style, with_time=True),
        )
    raise ValueError(source)
