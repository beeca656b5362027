"""Writes landing files one at a time and keeps the books: files.csv rows, dirt.csv rows, lineage.

`Landing.write_table` renders a file's clean rows in its form, plants the cell dirt, inserts
duplicate and junk rows at random places, writes the bytes, sets the mtime, and records
- the file (rows_in = data rows written, rows_quarantined = duplicates + junk),
- every planted dirt with the row's final number (1 = first data row under the header),
- the keys of the clean rows with their source_file and row_number (the truth's lineage).
The bad files (empty, header-only, wrong source, unreadable, byte copy, truncated) have their own
methods. Lineage is kept as key columns only (LINEAGE_KEYS) and joined back when the truth is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from ward.generate.dirt import DIRTY, JUNK_COLUMNS, Sheet, junk_rows, keyed_again
from ward.generate.forms import EXTRA_NOTE_SHARE, EXTRA_NOTES, Form, columns_for, headers_for, render
from ward.generate.rng import pick, stream
from ward.generate.writers import (
    XLSX_HEADER_ROW,
    XlsxLayout,
    csv_bytes,
    csv_line,
    csv_text,
    encode,
    set_mtime,
    write_xlsx,
)
from ward.sources import SOURCES

TITLES = {
    "citizens": ("DANH SÁCH CÔNG DÂN PHƯỜNG PHÙ LIỄN", "người"),
    "households": ("DANH SÁCH HỘ GIA ĐÌNH PHƯỜNG PHÙ LIỄN", "hộ"),
    "service_records": ("DANH SÁCH HỒ SƠ THỦ TỤC HÀNH CHÍNH - UBND PHƯỜNG PHÙ LIỄN", "hồ sơ"),
}
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# The columns that identify a clean row, to join the lineage (source_file, row_number) back on.
LINEAGE_KEYS = {
    "citizens": ["snapshot_date", "person_seq"],
    "households": ["snapshot_date", "household_id"],
    "service_records": ["record_id", "updated_at"],
}


@dataclass(frozen=True)
class FileRecord:
    source_file: str  # path under landing/
    source: str  # the folder it was dropped in
    status: str  # loaded | rejected | duplicate
    rows_in: int | None  # data rows (None when unreadable or not read)
    rows_quarantined: int | None
    extract_date: date | None  # the date the pipeline must find (name, else mtime)
    date_from: str  # name | mtime
    file_format: str
    encoding: str | None
    separator: str | None
    header_row: int | None
    form: str
    note: str


class Landing:
    def __init__(self, root: Path, seed: int, known_ids: pl.Series) -> None:
        self.root, self.seed = root, seed
        self.known_ids = np.sort(known_ids.cast(pl.Int64).to_numpy())
        self.records: list[FileRecord] = []
        self.dirt: list[pl.DataFrame] = []
        self.lineage: dict[str, list[pl.DataFrame]] = {s: [] for s in SOURCES}
        self.keyed_again: list[pl.DataFrame] = []
        self._written = 0

    # ------------------------------------------------------------------------------ bookkeeping
    def _path(self, folder: str, name: str) -> Path:
        path = self.root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _finish(self, path: Path, day: date) -> None:
        self._written += 1
        set_mtime(path, day, self._written)  # later files a little later the same day

    def _record(
        self,
        source: str,
        folder: str,
        name: str,
        status: str,
        rows_in,
        quarantined,
        day,
        form: Form | None,
        note: str,
        *,
        has_date: bool = True,
        header_row: int | None = 1,
    ) -> FileRecord:
        record = FileRecord(
            source_file=f"{folder}/{name}",
            source=folder,
            status=status,
            rows_in=rows_in,
            rows_quarantined=quarantined,
            extract_date=day,
            date_from="name" if has_date else "mtime",
            file_format=form.file_format if form else Path(name).suffix.lstrip("."),
            encoding=None if form is None or form.is_xlsx else form.encoding,
            separator=None if form is None or form.is_xlsx else SEPARATOR_NAMES[form.separator],
            header_row=(XLSX_HEADER_ROW if form is not None and form.is_xlsx else header_row),
            form=form.describe(source) if form else "",
            note=note,
        )
        self.records.append(record)
        return record

    def _log(self, source_file: str, row_numbers: np.ndarray, kind: str, column: str) -> None:
        if len(row_numbers):
            self.dirt.append(
                pl.DataFrame(
                    {
                        "source_file": source_file,
                        "row_number": np.asarray(row_numbers, dtype=np.int64),
                        "kind": kind,
                        "column": column,
                    }
                )
            )

    # ------------------------------------------------------------------------------ real files
    def write_table(
        self,
        source: str,
        name: str,
        clean: pl.DataFrame,
        form: Form,
        day: date,
        *,
        duplicates: int = 0,
        junk: list[str] | None = None,
        keyed: int = 0,
        has_date: bool = True,
        folder: str | None = None,
        dirty: bool = True,
        status: str = "loaded",
        note: str = "",
    ) -> FileRecord:
        folder = folder or source
        source_file = f"{folder}/{name}"
        rng = stream(self.seed, f"file:{source_file}")
        spec = SOURCES[source]
        columns = columns_for(spec, form, rng)
        headers = headers_for(spec, columns, form, rng)
        sheet = Sheet(source, render(source, clean, form, rng), form, rng)
        if dirty:
            DIRTY[source](sheet, clean)
        n = clean.height
        frame = sheet.frame
        if form.extra_column:
            notes = np.asarray(EXTRA_NOTES, dtype=object)[rng.integers(0, len(EXTRA_NOTES), n)]
            notes[rng.random(n) >= EXTRA_NOTE_SHARE] = None
            frame = frame.with_columns(__extra=pl.Series(notes.tolist(), dtype=pl.String))
        junk = junk or []
        dup_of = pick(rng, np.ones(n, bool), duplicates)
        extra = junk_rows(source, clean, form, junk, rng, self.known_ids)
        # Rows keyed again by hand (citizens): kept rows of persons already in the file.
        krng = stream(self.seed, f"keyed-again:{source_file}")
        copies, copy_of, copy_kinds = frame.head(0), np.empty(0, np.int64), []
        if source == "citizens" and dirty and keyed:
            eligible = ~sheet._taken.get("citizen_id", np.zeros(n, bool))
            if "planted" in clean.columns:
                eligible &= clean["planted"].is_null().to_numpy()
            copies, copy_of, copy_kinds = keyed_again(clean, form, krng, keyed, eligible)
        if form.extra_column:
            extra = extra.with_columns(__extra=pl.lit(None, dtype=pl.String))
            if "__extra" not in copies.columns:
                copies = copies.with_columns(__extra=pl.lit(None, dtype=pl.String))
        keys = np.concatenate(
            [
                np.arange(n, dtype=float),
                dup_of + rng.uniform(0.5, 30.0, len(dup_of)),
                copy_of + krng.uniform(0.5, 30.0, len(copy_of)),
                rng.uniform(-0.5, n, len(junk)),
            ]
        )
        order = np.argsort(keys, kind="stable")
        final = pl.concat(
            [frame, frame[dup_of], copies.select(frame.columns), extra.select(frame.columns)], how="vertical"
        )
        for i, j in enumerate(copy_of.tolist()):  # a copy keyed again is never the row itself
            if final.row(n + len(dup_of) + i) == final.row(j):
                raise AssertionError(f"{source_file}: a row keyed again equals row {j}")
        final = final[order]
        row_number = np.empty(len(order), dtype=np.int64)
        row_number[order] = np.arange(1, len(order) + 1)

        cells = final.select(columns + (["__extra"] if form.extra_column else []))
        path = self._path(folder, name)
        if form.is_xlsx:
            title, unit = TITLES[source]
            layout = XlsxLayout(
                title, f"Ngày trích xuất: {day:%d/%m/%Y}", f"Tổng cộng: {final.height} {unit}"
            )
            write_xlsx(path, headers, cells, layout)
        else:
            path.write_bytes(csv_bytes(headers, cells, form))
        self._finish(path, day)

        if status == "loaded":
            for rows, kind, column in zip(sheet.log_rows, sheet.log_kinds, sheet.log_columns, strict=True):
                self._log(source_file, row_number[rows], kind, column)
            self._log(source_file, row_number[n : n + len(dup_of)], "duplicate_row", "*")
            at = n + len(dup_of) + len(copy_of)
            for j, kind in enumerate(junk):
                column = JUNK_COLUMNS[kind]
                self._log(source_file, row_number[at + j : at + j + 1], kind, column)
            if len(copy_of):
                self.keyed_again.append(
                    pl.DataFrame(
                        {
                            "source_file": source_file,
                            "row_number": row_number[n + len(dup_of) : at],
                            "person_seq": clean["person_seq"].gather(copy_of).cast(pl.Int64),
                            "original_source_file": source_file,
                            "original_row_number": row_number[copy_of],
                            "kinds": pl.Series(copy_kinds, dtype=pl.String),
                        }
                    )
                )
            self.lineage[source].append(
                clean.select(LINEAGE_KEYS[source]).with_columns(
                    source_file=pl.lit(source_file), row_number=pl.Series(row_number[:n], dtype=pl.Int64)
                )
            )
        quarantined = len(dup_of) + len(junk) if status == "loaded" else None
        return self._record(
            source, folder, name, status, final.height, quarantined, day, form, note, has_date=has_date
        )

    # ------------------------------------------------------------------------------ bad files
    def write_empty(self, folder: str, name: str, day: date) -> FileRecord:
        path = self._path(folder, name)
        path.write_bytes(b"")
        self._finish(path, day)
        return self._record(
            folder, folder, name, "rejected", None, None, day, None, "empty file (0 bytes)", header_row=None
        )

    def write_header_only(self, source: str, name: str, form: Form, day: date) -> FileRecord:
        rng = stream(self.seed, f"file:{source}/{name}")
        spec = SOURCES[source]
        columns = columns_for(spec, form, rng)
        text = csv_text(
            headers_for(spec, columns, form, rng),
            pl.DataFrame({c: [] for c in columns}, schema={c: pl.String for c in columns}),
            form,
        )
        path = self._path(source, name)
        path.write_bytes(encode(text, form.encoding))
        self._finish(path, day)
        note = "header only: an empty snapshot is not a snapshot"
        return self._record(source, source, name, "rejected", 0, None, day, form, note)

    def write_unreadable(self, folder: str, name: str, day: date) -> FileRecord:
        rng = stream(self.seed, f"file:{folder}/{name}")
        path = self._path(folder, name)
        path.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
        self._finish(path, day)
        return self._record(
            folder,
            folder,
            name,
            "rejected",
            None,
            None,
            day,
            None,
            "random bytes named .xlsx: unreadable",
            header_row=None,
        )

    def write_copy(self, original: FileRecord, name: str) -> FileRecord:
        source = self.root / original.source_file
        path = self._path(original.source, name)
        path.write_bytes(source.read_bytes())
        self._finish(path, original.extract_date)
        return self._record(
            original.source,
            original.source,
            name,
            "duplicate",
            None,
            None,
            original.extract_date,
            None,
            f"byte-identical copy of {original.source_file}",
            header_row=None,
        )

    def write_truncated(
        self, source: str, name: str, clean: pl.DataFrame, form: Form, day: date
    ) -> FileRecord:
        """The rows as `form` writes them, the file cut in the middle of the last row's name."""
        rng = stream(self.seed, f"file:{source}/{name}")
        spec = SOURCES[source]
        columns = spec.column_names  # canonical order: the cut falls before the dates and status
        cells = render(source, clean, form, rng).select(columns)
        text = csv_text(headers_for(spec, columns, form, rng), cells, form)
        newline = "\r\n" if form.crlf else "\n"
        head = text[: -len(newline)].rsplit(newline, 1)[0] + newline
        last = cells.row(cells.height - 1)
        cut_at = columns.index("applicant_name")
        name_value = last[cut_at] or "x"
        partial = csv_line([*last[:cut_at], name_value[: max(1, len(name_value) // 2)]], form)
        path = self._path(source, name)
        path.write_bytes(encode(head + partial, form.encoding))
        self._finish(path, day)
        self._log(f"{source}/{name}", np.array([cells.height]), "truncated_row", "*")
        return self._record(
            source,
            source,
            name,
            "loaded",
            cells.height,
            1,
            day,
            form,
            "truncated mid-row; its complete rows repeat versions delivered elsewhere",
        )

    # ------------------------------------------------------------------------------ results
    def files_frame(self) -> pl.DataFrame:
        return pl.DataFrame([asdict(r) for r in self.records], schema=_FILES_SCHEMA).sort("source_file")

    def dirt_frame(self) -> pl.DataFrame:
        if not self.dirt:
            return pl.DataFrame(
                schema={
                    "source_file": pl.String,
                    "row_number": pl.Int64,
                    "kind": pl.String,
                    "column": pl.String,
                }
            )
        return pl.concat(self.dirt).sort("source_file", "row_number", "kind", "column")

    def keyed_again_frame(self) -> pl.DataFrame:
        """truth/duplicate_rows.csv: every citizens row keyed again, with the row it repeats."""
        if not self.keyed_again:
            return pl.DataFrame(schema=_KEYED_AGAIN_SCHEMA)
        return pl.concat(self.keyed_again).select(list(_KEYED_AGAIN_SCHEMA)).sort("source_file", "row_number")

    def lineage_of(self, source: str) -> pl.DataFrame:
        return pl.concat(self.lineage[source])


_FILES_SCHEMA = {
    "source_file": pl.String,
    "source": pl.String,
    "status": pl.String,
    "rows_in": pl.Int64,
    "rows_quarantined": pl.Int64,
    "extract_date": pl.Date,
    "date_from": pl.String,
    "file_format": pl.String,
    "encoding": pl.String,
    "separator": pl.String,
    "header_row": pl.Int64,
    "form": pl.String,
    "note": pl.String,
}

_KEYED_AGAIN_SCHEMA = {
    "source_file": pl.String,
    "row_number": pl.Int64,
    "person_seq": pl.Int64,
    "original_source_file": pl.String,
    "original_row_number": pl.Int64,
    "kinds": pl.String,
}
