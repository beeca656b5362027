"""Excel extracts: the first sheet, header row found under any title lines, every cell as text.

Cells become text as the raw-lake contract says: text as is; integer-valued numbers without `.0`
(`31095012345`, an ID that lost its leading zero; exact up to 2**53); date and date-time cells as ISO
`yyyy-mm-dd` / `yyyy-mm-dd HH:MM:SS`. fastexcel (calamine) reads the sheet once as text; it writes date
cells `yyyy-mm-dd HH:MM:SS[.fff]`, which are then cut to the contract's form. A text cell typed exactly
like that (`1990-01-05 00:00:00`) cannot be told from a date cell and is cut too: the date it says is
unchanged. Error cells (`#N/A`) have no value: null.

Known limit: calamine writes a non-integer number rounded to 9 decimal places, without an exponent
(`0.333333333`, `0.00001`, and `0` for 1e-10), not as Python's `str(float)`. Telling number cells from
text cells would take a second parse of the sheet (about as long as the first); the extracts carry no
such numbers (IDs, phones, counts and dates are integers or date cells), so the sheet is read once.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from xml.etree import ElementTree

import fastexcel
import polars as pl

from ward.ingest import rejections
from ward.ingest.grid import (
    HEADER_SEARCH_ROWS,
    Grid,
    HeaderNotFound,
    column_names,
    find_header_row,
    nfc_cells,
)
from ward.ingest.rejections import Rejection

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls, or an encrypted .xlsx

_NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*/>|<(?:\w+:)?c\b([^>]*)>(.*?)</(?:\w+:)?c>", re.S)
_CELL_ROW = re.compile(rb'\br="[A-Z]+(\d+)"')
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)\b[^>]*>\s*[^<\s]|<(?:\w+:)?t\b[^>]*>\s*[^<\s]")


def first_used_row(data: bytes) -> int:
    """The sheet row calamine's grid starts at (its first cell with a value); 1 when unsure.

    calamine drops the blank rows above the first used cell, so this tells the header's real row.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
            sheet = next(e for e in workbook.iter() if e.tag.endswith("}sheet") or e.tag == "sheet")
            rel_id = sheet.get(_NS_REL)
            rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
            target = next(e.get("Target") for e in rels.iter() if e.get("Id") == rel_id)
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            with book.open(path) as stream:
                head = stream.read(4 * 1024 * 1024)
        for cell in _CELL.finditer(head):
            if cell.group(2) is not None and _HAS_VALUE.search(cell.group(2)):
                row = _CELL_ROW.search(cell.group(1))
                return int(row.group(1)) if row else 1
    except Exception:
        return 1
    return 1


_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00(?:\.0+)?$"
_FRACTION = r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\.\d+$"


def _iso_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """calamine's `yyyy-mm-dd HH:MM:SS[.fff]` as `yyyy-mm-dd` at midnight, else to the second."""
    if not frame.height:
        return frame
    found = frame.select(pl.col(c).str.contains(r"^\d{4}-\d{2}-\d{2} \d{2}:").any() for c in frame.columns)
    fix = [c for c, has in zip(frame.columns, found.row(0), strict=True) if has]
    return frame.with_columns(
        pl.col(c).str.replace(_MIDNIGHT, "${1}").str.replace(_FRACTION, "${1}") for c in fix
    )


MAX_SHEETS_LOOKED_AT = 10

# Decompression bombs: an .xlsx is a zip, and a few KB of zip can unpack to gigabytes that calamine
# would hold in memory. Before the workbook is opened, the sizes its entries declare (the zip's
# central directory) are added up, and the file is refused above these limits:
# - 1 GiB unpacked in all: a full snapshot of the ward (tens of thousands of rows, 19 columns) is
#   tens of MB of sheet XML; even Excel's maximum sheet of such rows stays under this, and past it
#   the server (2 cores, shared) could run out of memory.
MAX_UNPACKED_BYTES = 1 << 30
# - 200 times the size of the file: XML of real cells compresses 5 to 20 times; ratios in the
#   hundreds only come from long runs of identical bytes, the shape of a bomb. Checked only once
#   the unpacked total is big enough to hurt (a tiny workbook of styles may well unpack 50x).
MAX_UNPACK_RATIO = 200
RATIO_CHECKED_ABOVE = 16 << 20
# - 10,000 entries: a workbook has a few dozen parts; thousands only make the zip slow to open.
MAX_ZIP_ENTRIES = 10_000


def check_unpacked_size(data: bytes, f: str) -> None:
    """Refuse (`Rejection`) a zip that declares more than the limits above; damaged zip: damaged_excel.

    The declared sizes are what zip readers trust when they allocate; an entry that lies about its
    size fails its CRC check in the reader instead (and the file is rejected as unreadable).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            entries = book.infolist()
    except Exception:
        raise Rejection(rejections.damaged_excel(f)) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise Rejection(rejections.damaged_excel(f))
    unpacked = sum(e.file_size for e in entries)
    size = max(len(data), 1)
    if unpacked > MAX_UNPACKED_BYTES:
        limit = f"> {MAX_UNPACKED_BYTES >> 20} MiB"
        raise Rejection(rejections.unpacked_too_big(f, unpacked, len(data), limit))
    if unpacked > RATIO_CHECKED_ABOVE and unpacked > MAX_UNPACK_RATIO * size:
        limit = f"> {MAX_UNPACK_RATIO}x"
        raise Rejection(rejections.unpacked_too_big(f, unpacked, len(data), limit))


def _sheet_with_header(book: fastexcel.ExcelReader) -> str | None:
    """The name of another sheet with a header row, when the first sheet has none (to say so)."""
    for position, name in enumerate(book.sheet_names[1:MAX_SHEETS_LOOKED_AT], start=1):
        try:
            top = book.load_sheet(position, header_row=None, dtypes="string", n_rows=HEADER_SEARCH_ROWS)
            rows = [list(r) for r in top.to_polars().iter_rows()]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            continue
        if find_header_row(rows) is not None:
            return name
    return None


def read_xlsx(data: bytes, f: str) -> Grid:
    """Read a delivered .xlsx file (`f`, its path under landing/, names it in reasons)."""
    if data.startswith(OLE_MAGIC):
        raise Rejection(rejections.legacy_excel(f))
    check_unpacked_size(data, f)
    try:
        book = fastexcel.read_excel(data)
        if not book.sheet_names:
            raise Rejection(rejections.damaged_excel(f))
        sheet = book.load_sheet(0, header_row=None, dtypes="string").to_polars()
    except Rejection:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # calamine errors, and panics on mangled files
        raise Rejection(rejections.damaged_excel(f)) from None
    names = column_names(sheet.width)
    sheet = sheet.rename(dict(zip(sheet.columns, names, strict=True)))
    top = [list(r) for r in sheet.head(HEADER_SEARCH_ROWS).iter_rows()]
    index = find_header_row(top)
    if index is None:
        raise HeaderNotFound(book.sheet_names[0], _sheet_with_header(book))
    headers = [unicodedata.normalize("NFC", c) if c and c.strip() else None for c in top[index]]
    body = sheet.slice(index + 1)
    rows = nfc_cells(_iso_dates(body))
    return Grid(
        headers=headers,
        rows=rows,
        header_row=first_used_row(data) + index,
        file_format="xlsx",
    )
