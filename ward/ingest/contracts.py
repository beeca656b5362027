"""The raw lake's contract at the boundary: one pandera (polars) schema per source, from `ward.sources`.

Every canonical column present, as nullable String (the cell as delivered); the lineage columns with
their types; `_row_number` unique and at least 1; nothing else, in this order.
"""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from ward.sources import LINEAGE_COLUMNS, SOURCES

# TIMESTAMP (UTC) is written as a naive datetime holding UTC, so DuckDB reads TIMESTAMP, not TIMESTAMPTZ.
LINEAGE_TYPES: dict[str, pl.DataType] = {
    "_source": pl.String(),
    "_source_file": pl.String(),
    "_row_number": pl.Int32(),
    "_file_sha256": pl.String(),
    "_extract_date": pl.Date(),
    "_loaded_at": pl.Datetime("us"),
    "_extra_columns": pl.String(),
}
assert tuple(LINEAGE_TYPES) == LINEAGE_COLUMNS, "ward.sources.LINEAGE_COLUMNS changed: update LINEAGE_TYPES"


def raw_columns(source: str) -> dict[str, pl.DataType]:
    """The raw frame's columns and types, in order: canonical columns, then lineage."""
    return {**dict.fromkeys(SOURCES[source].column_names, pl.String()), **LINEAGE_TYPES}


def empty_raw_frame(source: str) -> pl.DataFrame:
    return pl.DataFrame(schema=raw_columns(source))


@cache
def raw_schema(source: str) -> pa.DataFrameSchema:
    columns = {name: pa.Column(pl.String, nullable=True) for name in SOURCES[source].column_names}
    columns.update(
        {
            "_source": pa.Column(pl.String, pa.Check.isin([source]), nullable=False),
            "_source_file": pa.Column(pl.String, pa.Check.str_startswith(f"{source}/"), nullable=False),
            "_row_number": pa.Column(pl.Int32, pa.Check.ge(1), nullable=False, unique=True),
            "_file_sha256": pa.Column(pl.String, pa.Check.str_matches(r"^[0-9a-f]{64}$"), nullable=False),
            "_extract_date": pa.Column(pl.Date, nullable=False),
            "_loaded_at": pa.Column(pl.Datetime("us"), nullable=False),
            "_extra_columns": pa.Column(pl.String, nullable=True),
        }
    )
    return pa.DataFrameSchema(columns, name=f"raw_{source}", strict=True, ordered=True, coerce=False)


def contract_failures(source: str, frame: pl.DataFrame) -> list[str]:
    """The failed checks, as `column: check` only (pandera's failure cases hold cell values)."""
    try:
        raw_schema(source).validate(frame, lazy=True)
    except SchemaErrors as errors:
        found = errors.failure_cases.select("column", "check").unique(maintain_order=True)
        return [f"{column}: {check}" for column, check in found.iter_rows()]
    except SchemaError as error:
        return [f"{getattr(error, 'column_name', None) or 'frame'}: {error.reason_code}"]
    return []
