"""What both readers hand over: the header cells and the rows under them, every cell as text.

Also the layout rules shared by CSV and xlsx: where the header row is (title lines above it are not
data), and which trailing lines are totals or signatures (not data either).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from ward.ingest.headers import count_known, fold

HEADER_SEARCH_ROWS = 30  # the header row must be among a file's first 30 rows
MAX_FOOTER_ROWS = 40  # totals, dates, signatures and signers' names under the data


class HeaderNotFound(Exception):
    """No row among a file's first `HEADER_SEARCH_ROWS` holds known headers.

    For a workbook: `sheet` is the first sheet's name, `found_on` another sheet that has a header row.
    """

    def __init__(self, sheet: str | None = None, found_on: str | None = None):
        super().__init__(sheet, found_on)
        self.sheet = sheet
        self.found_on = found_on


@dataclass
class Grid:
    headers: list[str | None]  # header cells as delivered (NFC), one per file column
    rows: pl.DataFrame  # positional String columns c0..c{n-1}: every row under the header, in order
    header_row: int  # 1-based line (CSV) or sheet row (xlsx) of the header
    file_format: str  # csv / xlsx
    encoding: str | None = None
    separator: str | None = None


def column_names(width: int) -> list[str]:
    return [f"c{i}" for i in range(width)]


# Characters NFC leaves alone whatever follows them (checked pairwise against unicodedata): ASCII,
# Latin-1 and Latin Extended, Vietnamese precomposed letters (U+1E00–U+1EFF), punctuation, currency.
_SURELY_NFC = r"^[\x00-\x{02FF}\x{1E00}-\x{1EFF}\x{2002}-\x{203F}\x{20A0}-\x{20BF}]*$"


def nfc_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Cells in Unicode NFC, normalising only the columns that hold something NFC could change."""
    if not frame.height:
        return frame
    found = frame.select(pl.col(c).str.contains(_SURELY_NFC).not_().any() for c in frame.columns).row(0)
    fix = [c for c, has in zip(frame.columns, found, strict=True) if has]
    return frame.with_columns(pl.col(c).str.normalize("NFC") for c in fix)


def find_header_row(rows: list[list[str | None]]) -> int | None:
    """Index of the header among the first rows: the first row naming at least two known headers
    (or one, when no row names two); None when no row names any."""
    counts = [count_known(row) for row in rows[:HEADER_SEARCH_ROWS]]
    best = max(counts, default=0)
    if best == 0:
        return None
    return next(i for i, n in enumerate(counts) if n >= min(2, best))


# Footer lines under the data, matched on the folded first non-blank cell of a sparse row. A total
# line needs a colon or a figure after its keyword (or nothing at all), so that a name cut short
# (`Tống Công Minh` folds to `tong cong minh`) is not taken for `Tổng cộng`.
_FOOTER = re.compile(
    r"^(tong|cong)\b[^:\d]{0,30}[:\d]|^(tong( cong| so)?|cong)\W*$"
    r"|^(nguoi (lap|duyet|ky|kiem tra)|xac nhan|can bo|thu truong|tm\b|kt\b|(pho )?chu tich\b|ke toan\b|"
    r"lanh dao\b|\(?ky\b|ghi chu\b|noi nhan\b|uy ban nhan dan\b|ubnd\b)"
    r"|\bngay\b.*\bthang\b.*\bnam\b"
)


def is_footer_text(text: str | None) -> bool:
    """A total, date or signature line (`Tổng cộng`, `Người lập biểu`, `..., ngày 1 tháng 10 năm`)."""
    return bool(text) and bool(_FOOTER.search(fold(text)))


_NUMBER_CELL = re.compile(r"^\(?(\d+)\)?$")


def is_column_numbering(cells: tuple | list) -> bool:
    """The row of column numbers government templates put under the header: `1 2 3 ...`, `(1) (2) ...`."""
    numbers = []
    for cell in cells:
        if cell is None or not cell.strip():
            continue
        match = _NUMBER_CELL.match(cell.strip())
        if not match:
            return False
        numbers.append(int(match.group(1)))
    return len(numbers) >= 3 and numbers == list(range(1, len(numbers) + 1))


def data_row_mask(rows: pl.DataFrame) -> pl.Series:
    """True for the rows that are data: not blank, and not part of the footer block at the end.

    A row is sparse when it fills few cells (at most a third of the columns and half of what a typical
    row fills, and at least 2). The footer block starts at the first sparse row whose first non-blank
    cell reads like a total, date or signature, among the blank or sparse rows at the end of the
    file; the sparse rows below it (signers' names) belong to it, a sparse row above it (a truncated
    last line) stays data. Cells holding only spaces count as blank. A row of column numbers right
    under the header (`1 2 3 ...`) is layout, not data.
    """
    height = rows.height
    if height == 0:
        return pl.Series("data", [], dtype=pl.Boolean)
    nonnull = rows.select(pl.sum_horizontal(pl.all().is_not_null())).to_series()
    typical = nonnull.filter(nonnull > 0).median() or 0
    sparse_limit = max(2, min(rows.width // 3, int(typical) // 2))
    # Only sparse rows can be blank or footer: look closely at those alone (normally a handful).
    filled = [pl.col(c).str.strip_chars().str.len_bytes().fill_null(0) > 0 for c in rows.columns]
    sparse = (
        rows.with_row_index("i")
        .filter(nonnull <= sparse_limit)
        .select(
            "i",
            pl.sum_horizontal(filled).alias("n"),
            pl.coalesce(pl.when(f).then(pl.col(c)) for f, c in zip(filled, rows.columns, strict=True)).alias(
                "first"
            ),
        )
    )
    counts = dict(zip(sparse["i"], sparse["n"], strict=True))
    firsts = dict(zip(sparse["i"], sparse["first"], strict=True))
    drop = [i for i, n in counts.items() if n == 0]
    # Walk up from the bottom over sparse rows only: the tail is short, the data never read.
    footer_start = None
    i = height - 1
    while i >= max(0, height - MAX_FOOTER_ROWS) and i in counts:
        if counts[i] and is_footer_text(firsts[i]):
            footer_start = i
        i -= 1
    if footer_start is not None:
        drop.extend(range(footer_start, height))
    if is_column_numbering(rows.row(0)):
        drop.append(0)
    keep = pl.repeat(True, height, dtype=pl.Boolean, eager=True).alias("data")
    return keep.scatter(sorted(set(drop)), False) if drop else keep
