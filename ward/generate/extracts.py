"""Which files land where: the split of each extract into files, their forms and names, the bad files.

citizens: each snapshot split into six files by blocks of residential groups (by households when
  the ward has fewer than six groups), one per citizens form; snapshot 2 rotates the forms over the
  blocks. One file of snapshot 1 has no date in its name (its mtime carries the extract date).
households: snapshot 1 one xlsx; snapshot 2 two CSV files (Windows-1258 `;`, UTF-16 tab shuffled).
service_records: 53 weekly files (the CSV forms in turn, every eighth week an xlsx), one a week
  ending on snapshot 2's date.
Bad files: see `write_bad_files`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from ward.generate.dirt import (
    CITIZEN_JUNK_KINDS,
    CITIZEN_JUNK_TOTAL,
    DUPLICATE_ROWS,
    HOUSEHOLD_JUNK_KINDS,
    HOUSEHOLD_JUNK_RATE,
    KEYED_AGAIN,
    KEYED_AGAIN_MIN,
    SERVICE_JUNK_KINDS,
    SERVICE_JUNK_RATE,
)
from ward.generate.forms import Form
from ward.generate.landing import FileRecord, Landing
from ward.generate.rng import count_for, stream

CITIZEN_FORMS = (
    Form("A", encoding="utf-8", separator=",", header_style="vi", date_style="dmy", group_style=0),
    Form(
        "B",
        encoding="utf-8-sig",
        separator=";",
        crlf=True,
        header_style="ascii_upper",
        date_style="dmy_short",
        group_style=1,
        drop_columns=("legacy_id", "hometown"),
    ),
    Form(
        "C",
        encoding="utf-16",
        separator="\t",
        crlf=True,
        header_style="vi_messy",
        date_style="dmy_dash",
        group_style=2,
    ),
    Form(
        "D",
        encoding="cp1258",
        separator=",",
        crlf=True,
        header_style="vi_alias",
        date_style="iso",
        group_style=3,
    ),
    Form("E", file_format="xlsx", header_style="vi", date_style="xlsx", group_style=4),
    Form(
        "F",
        encoding="utf-8",
        separator="\t",
        header_style="snake",
        date_style="dmy",
        group_style=None,
        shuffle=True,
        extra_column=True,
    ),
)
CITIZEN_NAMES = {
    "A": "DS_cong_dan_{part}_{iso}.csv",
    "B": "danh_sach_cong_dan_{part}_{compact}.csv",
    "C": "cong_dan_{part}_{iso}_unicode.csv",
    "D": "CONG_DAN_{part}_{compact}_cp1258.csv",
    "E": "DS_cong_dan_{part}_{iso}.xlsx",
    "F": "danh_sach_{part}_{iso}.csv",
}
NO_DATE_NAME = "danh_sach_{part}.csv"  # form F of snapshot 1
PART_WEIGHTS = np.array([1.0, 1.0, 1.0, 1.0, 0.5, 1.0])  # block p of groups; the xlsx form gets the smallest

HOUSEHOLD_FORMS = (
    Form("H1", file_format="xlsx", header_style="vi", date_style="xlsx", group_style=0),
    Form(
        "H2",
        encoding="cp1258",
        separator=";",
        crlf=True,
        header_style="ascii_lower",
        date_style="dmy",
        group_style=1,
    ),
    Form(
        "H3",
        encoding="utf-16",
        separator="\t",
        crlf=True,
        header_style="vi_alias",
        date_style="dmy_short",
        group_style=4,
        shuffle=True,
    ),
    Form("H4", encoding="utf-8", separator=",", header_style="vi", date_style="dmy", group_style=0),
)

SERVICE_FORMS = {
    "S1": (
        Form("S1", encoding="utf-8", separator=",", header_style="vi", date_style="dmy"),
        "ho_so_tthc_{iso}.csv",
    ),
    "S2": (
        Form(
            "S2", encoding="utf-8-sig", separator=";", crlf=True, header_style="ascii_upper", date_style="iso"
        ),
        "HoSo_{compact}.csv",
    ),
    "S3": (Form("S3", file_format="xlsx", header_style="vi", date_style="xlsx"), "HoSoTTHC_{compact}.xlsx"),
    "S4": (
        Form(
            "S4",
            encoding="utf-16",
            separator="\t",
            crlf=True,
            header_style="vi_messy",
            date_style="dmy_short",
        ),
        "ho_so_{iso}_unicode.csv",
    ),
    "S5": (
        Form(
            "S5",
            encoding="cp1258",
            separator=",",
            crlf=True,
            header_style="snake",
            date_style="dmy_dash",
            shuffle=True,
        ),
        "hoso_tthc_{iso}_cp1258.csv",
    ),
}
SERVICE_CYCLE = ("S1", "S2", "S1", "S3", "S1", "S4", "S1", "S5")


def _name(pattern: str, day: date, **parts: str) -> str:
    return pattern.format(iso=day.isoformat(), compact=day.strftime("%Y%m%d"), **parts)


def allocate(rng: np.random.Generator, total: int, sizes: list[int]) -> np.ndarray:
    """Spread `total` planted rows over files in proportion to their rows."""
    p = np.asarray(sizes, dtype=float)
    if total <= 0 or p.sum() == 0:
        return np.zeros(len(sizes), dtype=np.int64)
    return rng.multinomial(total, p / p.sum())


def _junk_plan(
    rng: np.random.Generator, kinds: dict[str, str], rate_each: float, n: int, sizes: list[int]
) -> list[list[str]]:
    plan: list[list[str]] = [[] for _ in sizes]
    for kind in kinds:
        for i, k in enumerate(allocate(rng, count_for(rate_each, n), sizes)):
            plan[i] += [kind] * int(k)
    for i in range(len(plan)):
        plan[i] = [plan[i][j] for j in rng.permutation(len(plan[i]))]
    return plan


def citizen_parts(citizens: pl.DataFrame, groups: list[int]) -> list[tuple[str, pl.DataFrame]]:
    """Six (part label, rows) blocks: by groups when there are enough of them, else by households."""
    n_parts = len(CITIZEN_FORMS)
    if len(groups) >= n_parts:
        edges = np.rint(np.cumsum(PART_WEIGHTS) / PART_WEIGHTS.sum() * len(groups)).astype(int)
        edges = np.maximum(edges, np.arange(1, n_parts + 1))
        edges = np.minimum(edges, len(groups) - np.arange(n_parts - 1, -1, -1))
        starts = np.concatenate([[0], edges[:-1]])
        parts = []
        for a, b in zip(starts.tolist(), edges.tolist(), strict=True):
            block = groups[a:b]
            label = f"to_{block[0]:02d}_den_{block[-1]:02d}" if len(block) > 1 else f"to_{block[0]:02d}"
            parts.append((label, citizens.filter(pl.col("residential_group_no").is_in(block))))
        return parts
    ordinal = pl.col("household_id").rank("dense") % n_parts
    return [(f"phan_{p + 1}", citizens.filter(ordinal == p)) for p in range(n_parts)]


def write_citizens(
    landing: Landing, snapshots: list[pl.DataFrame], groups: list[int], seed: int
) -> dict[str, FileRecord]:
    rng = stream(seed, "plan:citizens")
    written: dict[str, FileRecord] = {}
    for k, clean in enumerate(snapshots, start=1):
        day = clean["snapshot_date"][0]
        parts = citizen_parts(clean, groups)
        sizes = [p[1].height for p in parts]
        n = clean.height
        dups = allocate(rng, count_for(DUPLICATE_ROWS, n), sizes)
        junk = _junk_plan(rng, CITIZEN_JUNK_KINDS, CITIZEN_JUNK_TOTAL / len(CITIZEN_JUNK_KINDS), n, sizes)
        for p, (label, rows) in enumerate(parts):
            if (
                rows.height == 0
            ):  # a block of empty groups (tiny wards): no file rather than a header-only one
                continue
            form = CITIZEN_FORMS[(p + k - 1) % len(CITIZEN_FORMS)]
            no_date = k == 1 and form.key == "F"
            name = _name(NO_DATE_NAME if no_date else CITIZEN_NAMES[form.key], day, part=label)
            record = landing.write_table(
                "citizens",
                name,
                rows,
                form,
                day,
                duplicates=int(dups[p]),
                junk=junk[p],
                keyed=max(KEYED_AGAIN_MIN, round(KEYED_AGAIN * rows.height)),
                has_date=not no_date,
                note="no date in the name: the extract date is the file's mtime" if no_date else "",
            )
            written[f"{k}:{form.key}"] = record
    return written


def write_households(landing: Landing, snapshots: list[pl.DataFrame], seed: int) -> None:
    rng = stream(seed, "plan:households")
    for k, clean in enumerate(snapshots, start=1):
        day = clean["snapshot_date"][0]
        if k == 1:
            files = [(HOUSEHOLD_FORMS[0], _name("DS_ho_gia_dinh_{iso}.xlsx", day), clean)]
        else:
            half = clean.height // 2
            files = [
                (HOUSEHOLD_FORMS[1], _name("ho_gia_dinh_{compact}_phan1.csv", day), clean[:half]),
                (HOUSEHOLD_FORMS[2], _name("ho_gia_dinh_{iso}_phan2.csv", day), clean[half:]),
            ]
        sizes = [f[2].height for f in files]
        dups = allocate(rng, count_for(DUPLICATE_ROWS, clean.height), sizes)
        junk = _junk_plan(rng, HOUSEHOLD_JUNK_KINDS, HOUSEHOLD_JUNK_RATE, clean.height, sizes)
        for i, (form, name, rows) in enumerate(files):
            landing.write_table("households", name, rows, form, day, duplicates=int(dups[i]), junk=junk[i])


def write_service_records(landing: Landing, versions: pl.DataFrame, weeks: list[date], seed: int) -> None:
    rng = stream(seed, "plan:service_records")
    by_week = {d: versions.filter(pl.col("extract_date") == d) for d in weeks}
    sizes = [by_week[d].height for d in weeks]
    n = versions.height
    dups = allocate(rng, count_for(DUPLICATE_ROWS, n, 2), sizes)
    junk = _junk_plan(rng, SERVICE_JUNK_KINDS, SERVICE_JUNK_RATE, n, sizes)
    for i, day in enumerate(weeks):
        rows = by_week[day]
        form, pattern = SERVICE_FORMS[SERVICE_CYCLE[i % len(SERVICE_CYCLE)]]
        if rows.height == 0:
            continue
        landing.write_table(
            "service_records",
            _name(pattern, day),
            rows,
            form,
            day,
            duplicates=min(int(dups[i]), rows.height),
            junk=junk[i] if rows.height else [],
        )


def write_bad_files(
    landing: Landing,
    households: pl.DataFrame,
    versions: pl.DataFrame,
    weeks: list[date],
    citizens_files: dict[str, FileRecord],
) -> None:
    """The files the pipeline must set aside or recognise, none of which changes the truth:
    - citizens: a header-only file and an unreadable `.xlsx` (random bytes), both dated snapshot 2,
      and a households file dropped in the citizens folder (rejected: not a citizens extract);
    - households: an empty file (0 bytes);
    - citizens: a byte-identical copy of a snapshot-2 file under a new name (duplicate);
    - service_records: a re-sent weekly file cut in the middle of its last row (loaded; its complete
      rows repeat versions delivered elsewhere, the cut row is quarantined)."""
    second = households["snapshot_date"][0]
    landing.write_header_only("citizens", _name("DS_cong_dan_{iso}_bo_sung.csv", second), _form("A"), second)
    landing.write_unreadable("citizens", _name("DS_cong_dan_to_99_{iso}.xlsx", second), second)
    first_group = households["residential_group_no"].min()
    landing.write_table(
        "households",
        _name("DS_ho_gia_dinh_{iso}.csv", second),
        households.filter(pl.col("residential_group_no") == first_group),
        HOUSEHOLD_FORMS[3],
        second,
        folder="citizens",
        dirty=False,
        status="rejected",
        note="a households extract dropped in the citizens folder",
    )
    landing.write_empty("households", _name("ho_gia_dinh_{iso}_loi.csv", second), second)
    original = citizens_files.get("2:A") or next(
        r for key, r in citizens_files.items() if key.startswith("2:")
    )
    stem = original.source_file.split("/", 1)[1].rsplit(".", 1)[0]
    landing.write_copy(original, f"{stem}_ban_sao.csv")
    sizes = versions.group_by("extract_date").len()
    later = sizes.filter(pl.col("extract_date") >= weeks[len(weeks) // 2]).sort("len", "extract_date")
    week = later["extract_date"][-1]  # the busiest week of the second half year
    rows = versions.filter(pl.col("extract_date") == week)
    rows = rows.head(max(2, rows.height * 3 // 5))
    form = SERVICE_FORMS["S1"][0]
    landing.write_truncated("service_records", _name("ho_so_tthc_{iso}_gui_lai.csv", week), rows, form, week)


def _form(key: str) -> Form:
    return next(f for f in CITIZEN_FORMS if f.key == key)
