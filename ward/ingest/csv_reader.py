"""CSV extracts: sniff the encoding and the separator, find the header row, read every cell as text.

Encodings: UTF-8, UTF-8 with BOM, UTF-16 (with BOM, or recognisably without), else Windows-1258 when
it decodes cleanly. Text ends up as UTF-8 in Unicode NFC (Windows-1258 carries tone marks as combining
characters). Polars reads the rows (all columns String, empty cell → null); a file polars refuses
(an over-long row, a stray quote) is read again with Python's `csv` module, over-long rows keeping
their surplus cells as extra columns.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
import unicodedata
from dataclasses import dataclass

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
from ward.ingest.headers import count_known
from ward.ingest.rejections import Rejection

SEPARATORS = (",", ";", "\t")
SAMPLE_BYTES = 256 * 1024  # enough for the title lines and the header
_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Decoded:
    payload: bytes  # UTF-8 (possibly behind a UTF-8 BOM), `\n` or `\r\n` line ends
    encoding: str  # utf-8 / utf-8-sig / utf-16 / utf-16-le / utf-16-be / cp1258
    verified: bool  # payload known to be valid UTF-8 (else polars checks it while reading)
    normalised: bool  # payload known to be NFC (else the cells are normalised after reading)


class _InvalidUtf8(Exception):
    """Polars found bytes that are not UTF-8 past the sample: decode the file again, verified."""


def _valid_utf8(data: bytes, final: bool = True) -> bool:
    """Whether `data` is UTF-8, checked in chunks so a big file is never decoded whole."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=final)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(head: bytes) -> str | None:
    """utf-16-le / utf-16-be when NUL bytes sit on one parity only (ASCII in UTF-16), else None."""
    sample = head[: 4096 - 4096 % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even == 0:
        return "utf-16-le"
    if even > 0.3 * half and odd == 0:
        return "utf-16-be"
    return None


def _transcode(data: bytes, encoding: str, f: str) -> Decoded:
    """UTF-16 or Windows-1258 bytes as UTF-8, a chunk at a time, so a big file is never held whole
    as a Python str (2–4 bytes a character).

    Text that is already NFC is marked so; otherwise NFC is left to `nfc_cells`, column by column in
    polars, which is far faster than normalising the whole text in Python. Chunks end at a line end
    (NFC never composes across one), so checking each chunk checks the whole text.
    """
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    view = memoryview(data)
    parts: list[bytes] = []
    normalised = True
    pending = ""
    try:
        for start in range(0, len(data), _CHUNK):
            final = start + _CHUNK >= len(data)
            text = pending + decoder.decode(view[start : start + _CHUNK], final=final)
            if not final:
                cut = text.rfind("\n") + 1
                text, pending = text[:cut], text[cut:]
            if "\x00" in text:
                raise Rejection(rejections.binary_file(f))
            normalised = normalised and unicodedata.is_normalized("NFC", text)
            parts.append(text.encode("utf-8"))
    except UnicodeDecodeError:
        raise Rejection(rejections.undecodable(f)) from None
    finally:
        view.release()
    return Decoded(b"".join(parts), encoding, True, normalised)


def _sample(payload: bytes) -> bytes:
    sample = payload[:SAMPLE_BYTES]
    if len(payload) > SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    return sample


def decode(data: bytes, f: str, verify: bool = False) -> Decoded:
    """The bytes as UTF-8, with the encoding they arrived in; `Rejection` when undecodable.

    UTF-8 is recognised on a sample; unless `verify`, the rest is left to polars, which refuses
    invalid UTF-8 while reading (then `read_csv` decodes again with `verify`).
    """
    if data.startswith(codecs.BOM_UTF8):
        sample = _sample(data)
        if not _valid_utf8(sample, final=len(sample) == len(data)) or (verify and not _valid_utf8(data)):
            raise Rejection(rejections.undecodable(f))
        decoded = Decoded(data, "utf-8-sig", verify, False)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        decoded = _transcode(data, "utf-16", f)
    elif (utf16 := _utf16_without_bom(data)) is not None:
        decoded = _transcode(data, utf16, f)
    elif b"\x00" in data:
        raise Rejection(rejections.binary_file(f))
    elif _valid_utf8(sample := _sample(data), final=len(sample) == len(data)):
        if verify and not _valid_utf8(data):
            if not sample.isascii():
                # Clearly UTF-8 (its start holds UTF-8 letters) with damaged bytes further on:
                # as Windows-1258 every Vietnamese letter would come out garbled.
                raise Rejection(rejections.undecodable(f))
            return decode_cp1258(data, f)
        decoded = Decoded(data, "utf-8", verify, False)
    else:
        return decode_cp1258(data, f)
    return _mac_line_ends(decoded)


def decode_cp1258(data: bytes, f: str) -> Decoded:
    return _mac_line_ends(_transcode(data, "cp1258", f))


def _mac_line_ends(decoded: Decoded) -> Decoded:
    if b"\n" in decoded.payload or b"\r" not in decoded.payload:
        return decoded
    payload = decoded.payload.replace(b"\r", b"\n")
    return Decoded(payload, decoded.encoding, decoded.verified, decoded.normalised)


@dataclass(frozen=True)
class _Record:
    first_line: int  # 1-based physical line the record starts on
    last_line: int  # physical line it ends on
    cells: list[str]


def _sample_records(sample: str, separator: str, line_by_line: bool = False) -> list[_Record]:
    """The first records of the sample; `line_by_line` parses each physical line alone, so that a
    stray quote in a title line cannot swallow the header (a quoted line break is then cut)."""
    records: list[_Record] = []
    if line_by_line:
        lines = [line.removesuffix("\r") for line in sample.split("\n")[:HEADER_SEARCH_ROWS]]
        for number, line in enumerate(lines, start=1):
            try:
                cells = next(csv.reader([line], delimiter=separator), [])
            except csv.Error:
                cells = line.split(separator)
            records.append(_Record(number, number, cells))
        return records
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=separator)
    previous = 0
    try:
        for cells in reader:
            records.append(_Record(previous + 1, reader.line_num, cells))
            previous = reader.line_num
            if len(records) >= HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        pass  # a quote run wild in the sample: keep the records read so far
    return records


def _sniff(payload: bytes) -> tuple[str, _Record]:
    """(separator, header record): the separator under which a header row holds most known headers.

    Records are parsed as CSV (quoted line breaks allowed); when that finds no header, each line is
    parsed alone (a title line opening a quote it never closes)."""
    text = _sample(payload).decode("utf-8-sig", errors="ignore")
    for line_by_line in (False, True):
        best: tuple[int, str, _Record] | None = None
        for separator in SEPARATORS:
            records = _sample_records(text, separator, line_by_line)
            index = find_header_row([r.cells for r in records])
            if index is None:
                continue
            score = count_known(records[index].cells)
            if best is None or score > best[0]:
                best = (score, separator, records[index])
        if best is not None:
            return best[1], best[2]
    raise HeaderNotFound


def _empty_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    # Polars keeps a quoted empty cell ("") as ""; the raw lake holds every empty cell as null.
    if not frame.height:
        return frame
    found = frame.select((pl.col(c) == "").any() for c in frame.columns).row(0)
    fix = [c for c, has in zip(frame.columns, found, strict=True) if has]
    return frame.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in fix)


def _read_with_polars(payload: bytes, separator: str, skip_lines: int, width: int) -> pl.DataFrame:
    return pl.read_csv(
        payload,
        has_header=False,
        separator=separator,
        skip_lines=skip_lines,
        schema=dict.fromkeys(column_names(width), pl.String),
        quote_char='"',
        raise_if_empty=False,
    )


def _read_with_csv_module(payload: bytes, separator: str, skip_lines: int) -> list[list[str]]:
    """The records after the first `skip_lines` physical lines (as polars' `skip_lines` counts)."""
    text = payload.decode("utf-8-sig")
    start = 0
    for _ in range(skip_lines):
        start = text.find("\n", start) + 1
        if start == 0:
            return []
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize // 2 if sys.maxsize < 2**63 else 2**62)
    try:
        return list(csv.reader(io.StringIO(text[start:], newline=""), delimiter=separator))
    finally:
        csv.field_size_limit(limit)


def read_csv(data: bytes, f: str) -> Grid:
    """Read a delivered CSV file (`f`, its path under landing/, names it in reasons)."""
    try:
        return _read(decode(data, f), f)
    except _InvalidUtf8:
        return _read(decode(data, f, verify=True), f)


def _read(decoded: Decoded, f: str) -> Grid:
    separator, header = _sniff(decoded.payload)
    headers = [unicodedata.normalize("NFC", h) or None for h in header.cells]
    try:
        rows = _read_with_polars(decoded.payload, separator, header.last_line, len(headers))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # polars refuses ragged or badly quoted rows (and may panic): read slowly
        if not decoded.verified and not _valid_utf8(decoded.payload):
            raise _InvalidUtf8 from None
        headers, rows = _read_slowly(decoded.payload, separator, header.last_line, headers, f)
    rows = _empty_to_null(rows)
    return Grid(
        headers=headers,
        rows=rows if decoded.normalised else nfc_cells(rows),
        header_row=header.first_line,
        file_format="csv",
        encoding=decoded.encoding,
        separator=separator,
    )


def _read_slowly(
    payload: bytes, separator: str, skip_lines: int, headers: list[str | None], f: str
) -> tuple[list[str | None], pl.DataFrame]:
    """Python's csv module: it takes stray quotes, and over-long rows keep their surplus cells."""
    try:
        body = _read_with_csv_module(payload, separator, skip_lines)
    except (csv.Error, UnicodeDecodeError):
        raise Rejection(rejections.unparseable_csv(f)) from None
    width = max([len(headers), *map(len, body)])
    headers = headers + [None] * (width - len(headers))
    rows = pl.DataFrame(
        [r + [None] * (width - len(r)) for r in body] if body else None,
        schema=dict.fromkeys(column_names(width), pl.String),
        orient="row",
    )
    return headers, rows
