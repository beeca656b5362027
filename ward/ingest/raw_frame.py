"""From a read grid to the raw-lake frame: data rows only, canonical columns, lineage, extras."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from ward.ingest.contracts import raw_columns
from ward.ingest.grid import Grid, data_row_mask
from ward.ingest.headers import HeaderMapping

ROW_NUMBER = "_row_number"


@dataclass(frozen=True)
class Lineage:
    source: str
    source_file: str  # path under landing/
    sha256: str
    extract_date: date
    loaded_at: datetime  # naive, UTC


def data_rows(grid: Grid) -> pl.DataFrame:
    """The data rows under the header, numbered (1 = first row under the header) before blank,
    total and signature rows are dropped, so a number still points at the row in the file."""
    numbered = grid.rows.with_columns(pl.int_range(1, grid.rows.height + 1, dtype=pl.Int32).alias(ROW_NUMBER))
    keep = data_row_mask(grid.rows)
    return numbered if keep.all() else numbered.filter(keep)


def _extra_columns(rows: pl.DataFrame, mapping: HeaderMapping) -> pl.Expr:
    # A column with neither header nor any value is layout (Excel's trailing separators), not data.
    kept = {
        position: key
        for position, key in mapping.extras.items()
        if not key.startswith("#") or rows[f"c{position}"].null_count() < rows.height
    }
    if not kept:
        return pl.lit(None, pl.String)
    values = [pl.col(f"c{p}").alias(k) for p, k in kept.items()]
    return (
        pl.when(pl.any_horizontal(v.is_not_null() for v in values))
        .then(pl.struct(values).struct.json_encode())
        .otherwise(None)
    )


def to_raw_frame(rows: pl.DataFrame, mapping: HeaderMapping, lineage: Lineage) -> pl.DataFrame:
    """The raw-lake frame of `data_rows(...)`: the columns of `contracts.raw_columns`, in order."""
    by_name = {name: position for position, name in mapping.canonical.items()}
    types = raw_columns(lineage.source)
    exprs = {
        name: pl.col(f"c{by_name[name]}") if name in by_name else pl.lit(None, pl.String)
        for name, dtype in types.items()
        if not name.startswith("_")
    }
    exprs.update(
        {
            "_source": pl.lit(lineage.source, pl.String),
            "_source_file": pl.lit(lineage.source_file, pl.String),
            ROW_NUMBER: pl.col(ROW_NUMBER),
            "_file_sha256": pl.lit(lineage.sha256, pl.String),
            "_extract_date": pl.lit(lineage.extract_date, pl.Date),
            "_loaded_at": pl.lit(lineage.loaded_at, pl.Datetime("us")),
            "_extra_columns": _extra_columns(rows, mapping),
        }
    )
    return rows.select(expr.cast(types[name]).alias(name) for name, expr in exprs.items())
