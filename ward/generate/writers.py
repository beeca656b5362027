"""Bytes on disk: CSV in every encoding and separator of the spec, and xlsx with title and footer lines.

Determinism: CSV bytes depend only on the cells; xlsx files are written here (SpreadsheetML with inline
strings, built column-wise with polars) with zip members stamped 1980-01-01 and a fixed creation
time in docProps; every file's mtime is set explicitly by `set_mtime`.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import polars as pl

from ward.generate.forms import XLSX_MARK, Form
from ward.generate.text import cp1258_form

UTF16_BOM = b"\xff\xfe"
XLSX_HEADER_ROW = 4  # 1-based: title, date line, blank line, header
XLSX_CREATED = datetime(2026, 1, 1, 8, 0, 0)


@dataclass(frozen=True)
class XlsxLayout:
    title: str
    date_line: str
    total_line: str
    signature: tuple[str, ...] = ("Người lập biểu", "(Ký, ghi rõ họ tên)")


def csv_text(headers: list[str], frame: pl.DataFrame, form: Form) -> str:
    """The CSV as text (before encoding): header line, then one line per row."""
    out = io.BytesIO()
    frame.rename(dict(zip(frame.columns, headers, strict=True))).write_csv(
        out, separator=form.separator, quote_style="necessary", line_terminator="\r\n" if form.crlf else "\n"
    )
    return out.getvalue().decode("utf-8")


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-8":
        return text.encode("utf-8")
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    if encoding == "utf-16":  # Excel "Unicode text": BOM + little-endian, whatever the machine
        return UTF16_BOM + text.encode("utf-16-le")
    if encoding == "cp1258":
        return cp1258_form(text).encode("cp1258")
    raise ValueError(encoding)


def csv_bytes(headers: list[str], frame: pl.DataFrame, form: Form) -> bytes:
    return encode(csv_text(headers, frame, form), form.encoding)


def csv_line(values: list[str | None], form: Form) -> str:
    """One record formatted as polars' `quote_style="necessary"` writes it (for cutting a row)."""
    out = io.StringIO()
    csv.writer(out, delimiter=form.separator, quoting=csv.QUOTE_MINIMAL, lineterminator="").writerow(
        ["" if v is None else v for v in values]
    )
    return out.getvalue()


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_STATIC_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    ),
    "docProps/app.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Excel</Application></Properties>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Danh sách" sheetId="1" r:id="rId1"/><sheet name="Ghi chú" sheetId="2" r:id="rId2"/>'
        "</sheets></workbook>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/worksheet" Target="worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    ),
    "xl/styles.xml": (  # cellXfs: 0 general, 1 date, 2 date-time, 3 bold
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<styleSheet xmlns="{_NS}">'
        '<numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>'
        '<numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm:ss"/></numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_SHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="{ns}"><dimension ref="A1:{last}"/><sheetData>'
)
_SHEET_CLOSE = "</sheetData></worksheet>"
XLSX_CHUNK_ROWS = 50_000
_EXCEL_EPOCH = date(1899, 12, 30)


def _column_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _escape(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _text_cell(ref: str, row: int, text: str, style: int = 0) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}{row}"{s} t="inlineStr"><is><t xml:space="preserve">{escaped}</t></is></c>'


def _cell_expr(column: str, letter: str) -> pl.Expr:
    """One column's cells as XML: text (inline string), number, date or date-time (serial + style)."""
    value = pl.col(column)
    ref = pl.lit(f'<c r="{letter}') + pl.col("__row")
    payload = value.str.slice(2)
    kind = value.str.slice(0, 2)
    day_serial = (
        payload.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False) - pl.lit(_EXCEL_EPOCH)
    ).dt.total_days()
    seconds = payload.str.slice(11).str.to_time("%H:%M:%S", strict=False).cast(pl.Int64) // 1_000_000_000
    datetime_serial = day_serial.cast(pl.Float64) + seconds.cast(pl.Float64) / 86400.0
    return (
        pl.when(value.is_null())
        .then(pl.lit(""))
        .when(kind == XLSX_MARK + "d")
        .then(ref + pl.lit('" s="1"><v>') + day_serial.cast(pl.String) + pl.lit("</v></c>"))
        .when(kind == XLSX_MARK + "t")
        .then(ref + pl.lit('" s="2"><v>') + datetime_serial.cast(pl.String) + pl.lit("</v></c>"))
        .when(kind == XLSX_MARK + "n")
        .then(ref + pl.lit('"><v>') + payload + pl.lit("</v></c>"))
        .otherwise(
            ref
            + pl.lit('" t="inlineStr"><is><t xml:space="preserve">')
            + _escape(value)
            + pl.lit("</t></is></c>")
        )
    )


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def write_xlsx(path: Path, headers: list[str], frame: pl.DataFrame, layout: XlsxLayout) -> None:
    """An .xlsx whose first sheet holds: title, date line, blank line, header (row 4), data, a total
    line, a blank line and a signature block; a second sheet of notes that readers must ignore.
    Sheet XML is built column-wise with polars and streamed into the zip in chunks."""
    letters = [_column_letter(i) for i in range(len(headers))]
    columns = frame.columns
    first = XLSX_HEADER_ROW + 1
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        "<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{layout.title}</dc:title><dc:creator>Phần mềm quản lý</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{XLSX_CREATED:%Y-%m-%dT%H:%M:%SZ}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{XLSX_CREATED:%Y-%m-%dT%H:%M:%SZ}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in [*_STATIC_PARTS.items(), ("docProps/core.xml", core)]:
            zf.writestr(_zip_info(name), text, compresslevel=6)
        with zf.open(_zip_info("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as out:
            top = (
                f'<row r="1">{_text_cell("A", 1, layout.title, 3)}</row>'
                f'<row r="2">{_text_cell("A", 2, layout.date_line)}</row>'
                f'<row r="{XLSX_HEADER_ROW}">'
                + "".join(
                    _text_cell(letter, XLSX_HEADER_ROW, h, 3)
                    for letter, h in zip(letters, headers, strict=True)
                )
                + "</row>"
            )
            last_row = first + frame.height + 1 + len(layout.signature)
            out.write((_SHEET_OPEN.format(ns=_NS, last=f"{letters[-1]}{last_row}") + top).encode("utf-8"))
            for offset in range(0, frame.height, XLSX_CHUNK_ROWS):
                chunk = frame.slice(offset, XLSX_CHUNK_ROWS).with_columns(
                    __row=pl.int_range(first + offset, first + offset + pl.len()).cast(pl.String)
                )
                xml = chunk.select(
                    pl.concat_str(
                        [pl.lit('<row r="'), pl.col("__row"), pl.lit('">')]
                        + [_cell_expr(c, letter) for c, letter in zip(columns, letters, strict=True)]
                        + [pl.lit("</row>")]
                    )
                ).to_series()
                out.write("".join(xml.to_list()).encode("utf-8"))
            last = first + frame.height - 1
            sign = letters[max(0, len(letters) - 3)]
            bottom = f'<row r="{last + 1}">{_text_cell("A", last + 1, layout.total_line, 3)}</row>' + "".join(
                f'<row r="{last + 3 + i}">{_text_cell(sign, last + 3 + i, line)}</row>'
                for i, line in enumerate(layout.signature)
            )
            out.write((bottom + _SHEET_CLOSE).encode("utf-8"))
        note = "Dữ liệu trích xuất từ hệ thống; không chỉnh sửa trang này."
        notes = f'<row r="1">{_text_cell("A", 1, note)}</row>'
        sheet2 = _SHEET_OPEN.format(ns=_NS, last="A1") + notes + _SHEET_CLOSE
        zf.writestr(_zip_info("xl/worksheets/sheet2.xml"), sheet2, compresslevel=6)


def set_mtime(path: Path, day: date, offset_seconds: int = 0) -> None:
    """mtime = noon UTC of the extract date (+ offset): the same calendar day in any time zone ±11 h."""
    stamp = datetime.combine(day, time(12, 0), tzinfo=UTC).timestamp() + offset_seconds
    os.utime(path, (stamp, stamp))
