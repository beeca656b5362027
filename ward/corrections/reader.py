"""Read a corrections spreadsheet: the worklist `ward quarantine` writes (ward/cli/worklist.py).

Headers are matched folded (case, diacritics, spaces), so the Vietnamese headers, the same without
diacritics and snake_case names all work. .xlsx (first sheet) or .csv (UTF-8, with or without BOM).
Only lines with a corrected value are corrections; the others are the steward's to-do list.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ward.ingest.entries import read_regular
from ward.ingest.headers import normalise_header
from ward.ingest.rejections import Rejection
from ward.ingest.xlsx_reader import check_unpacked_size

# The worklist's headers (ward/cli/worklist.py) → our names.
HEADERS = {
    "tep": "source_file",
    "dong": "row_number",
    "cot": "column",
    "gia tri da nhan": "old_value",
    "ma quy tac": "rule",
    "gia tri dung dien vao": "new_value",
    "gia tri dung": "new_value",
    "ghi chu": "note",
    "ly do": "issue_reason_vi",
    "phat hien ngay": "first_seen",
}
REQUIRED = ("source_file", "row_number", "column", "new_value")
COLUMNS = (
    "source_file", "row_number", "column", "old_value", "rule", "new_value", "note",
    "issue_reason_vi", "first_seen",
)  # fmt: skip


class UnreadableCorrections(ValueError):
    """The file is not a corrections table (message in English; the caller adds Vietnamese)."""


def read_corrections(path: Path) -> pl.DataFrame:
    """The filled lines of a corrections file, every cell as text, with `corrections_row` (1 = the
    first line under the header) so the audit can point back to the steward's line."""
    data = read_regular(path)
    if path.suffix.lower() == ".xlsx":
        try:
            check_unpacked_size(data, path.name)  # a decompression bomb is not opened
        except Rejection as rejection:
            raise UnreadableCorrections(
                "declares far more data once unpacked than a corrections sheet holds: not opened"
                if rejection.reason.kind == "unpacked_too_big"
                else "cannot be read as .xlsx (damaged)"
            ) from None
    try:
        if path.suffix.lower() == ".xlsx":
            frame = pl.read_excel(data, infer_schema_length=0)
        else:
            frame = pl.read_csv(data, infer_schema_length=0, encoding="utf8-lossy")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # also a panic of the Rust readers
        raise UnreadableCorrections(f"cannot be read as .xlsx or UTF-8 .csv ({type(exc).__name__})") from exc
    names = {}
    for header in frame.columns:
        key = normalise_header(header)
        name = HEADERS.get(key) or (key.replace(" ", "_") if key.replace(" ", "_") in COLUMNS else None)
        if name and name not in names.values():
            names[header] = name
    missing = [c for c in REQUIRED if c not in names.values()]
    if missing:
        raise UnreadableCorrections(
            f"has no column {', '.join(missing)} (use the sheet `ward quarantine` writes)"
        )
    frame = frame.select([pl.col(h).cast(pl.String).alias(n) for h, n in names.items()])
    frame = frame.with_columns(
        [pl.lit(None, pl.String).alias(c) for c in COLUMNS if c not in frame.columns]
    ).select(COLUMNS)
    frame = frame.with_row_index("corrections_row", offset=1).with_columns(
        pl.col("corrections_row").cast(pl.Int64), pl.col("new_value").str.strip_chars()
    )
    return frame.filter(pl.col("new_value").is_not_null() & (pl.col("new_value") != ""))
