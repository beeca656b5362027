"""The delivery ledger `raw/deliveries.parquet`: one row per (source, file path, sha256) ever seen."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from ward.ingest.permissions import make_private, private_dir
from ward.settings import Settings

# loaded / rejected / duplicate at ingest; held (a citizens snapshot losing persons, a dossier extract
# dated ahead: ward.deliveries.hold), superseded (the same path delivered again with new bytes) and
# withdrawn (`ward withdraw`) afterwards. Only a loaded file's rows are built from.
STATUSES = ("loaded", "rejected", "duplicate", "held", "superseded", "withdrawn")

# Columns and types exactly as docs/architecture.md ("Ledger"); TIMESTAMP UTC as naive UTC.
LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "file_name": pl.String(),
    "source_file": pl.String(),
    "sha256": pl.String(),
    "extract_date": pl.Date(),
    "status": pl.String(),
    "reason_vi": pl.String(),
    "reason_en": pl.String(),
    "rows_in": pl.Int32(),
    "loaded_at": pl.Datetime("us"),
    "file_format": pl.String(),
    "encoding": pl.String(),
    "separator": pl.String(),
    "header_row": pl.Int32(),
    "unknown_columns": pl.String(),  # JSON list of headers
    "raw_path": pl.String(),  # the Parquet, relative to the data root, for loaded files
}


@dataclass(frozen=True)
class LedgerRow:
    source: str
    file_name: str
    source_file: str
    sha256: str
    extract_date: date
    status: str
    reason_vi: str | None
    reason_en: str | None
    rows_in: int | None
    loaded_at: datetime
    file_format: str | None = None
    encoding: str | None = None
    separator: str | None = None
    header_row: int | None = None
    unknown_columns: str | None = None
    raw_path: str | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"ledger status must be one of {STATUSES}, not {self.status!r}")


def empty_ledger() -> pl.DataFrame:
    return pl.DataFrame(schema=LEDGER_SCHEMA)


def read_ledger(settings: Settings) -> pl.DataFrame:
    """The ledger (empty if no file was ever seen), with exactly the contract's columns."""
    path = settings.ledger_path
    if not path.exists():
        return empty_ledger()
    frame = pl.read_parquet(path)
    return frame.select(
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in LEDGER_SCHEMA.items()
    )


def write_parquet_atomically(frame: pl.DataFrame, path: Path, group: str | None = None) -> None:
    """Write beside the target under a name no `*.parquet` glob matches, then rename over it.

    Raw Parquet and the ledger hold personal data: the file is 0600 and its folder 0700 (0640 /
    0750 and owned by `group`, the readers group of `Settings.readers_group`).
    """
    private_dir(path.parent, group)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.write_parquet(tmp)
        make_private(tmp, group)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def ledger_key(row: LedgerRow | dict) -> tuple[str, str, str]:
    """A ledger row's identity: (source, source_file, sha256)."""
    if isinstance(row, LedgerRow):
        return row.source, row.source_file, row.sha256
    return row["source"], row["source_file"], row["sha256"]


def ledger_rows(frame: pl.DataFrame) -> list[LedgerRow]:
    return [LedgerRow(**row) for row in frame.iter_rows(named=True)]


def update_ledger(
    settings: Settings, rows: list[LedgerRow], changed: Sequence[LedgerRow] = ()
) -> pl.DataFrame:
    """Append `rows` and put each of `changed` in the place of the row with its identity (a status
    that moved: held, released, superseded, withdrawn); the ledger is rewritten atomically."""
    if not changed:
        return append_ledger(settings, rows)
    replacement = {ledger_key(r): r for r in changed}
    kept = [replacement.pop(ledger_key(r), r) for r in ledger_rows(read_ledger(settings))]
    frame = pl.DataFrame([asdict(r) for r in [*kept, *replacement.values(), *rows]], schema=LEDGER_SCHEMA)
    write_parquet_atomically(frame, settings.ledger_path, settings.readers_group)
    return frame


def append_ledger(settings: Settings, rows: list[LedgerRow]) -> pl.DataFrame:
    """Add rows to the ledger (rewritten atomically; created, empty, if missing); returns it whole."""
    ledger = read_ledger(settings)
    if rows or not settings.ledger_path.exists():
        new = pl.DataFrame([asdict(r) for r in rows], schema=LEDGER_SCHEMA)
        ledger = pl.concat([ledger, new])
        write_parquet_atomically(ledger, settings.ledger_path, settings.readers_group)
    return ledger
