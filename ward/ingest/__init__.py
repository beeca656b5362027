"""Ingest: every extract form of the landing folder into the raw lake, with a delivery ledger.

- `load.ingest_landing(settings)`: the run (walk landing/, skip known bytes, read, check, write, record).
- `csv_reader` / `xlsx_reader`: a delivered file as a `grid.Grid` (header cells + rows, all text).
- `grid`: header-row search, blank/total/signature rows, NFC; `headers`: header → canonical column.
- `raw_frame`: the raw-lake frame with lineage; `contracts`: its pandera schema per source.
- `ledger`: `raw/deliveries.parquet`; `extract_date`: from the name or the mtime. Once a run's files
  are read, ward.deliveries.settle holds, releases and supersedes deliveries (`raw/held/`, ...).
- `rejections`: why a file cannot be taken, in Vietnamese and English.
- `entries`: what a landing entry is, by lstat (links, FIFOs, folders are never followed or opened);
  printable names. `permissions`: owner-only (or readers-group) modes of personal files.
"""
