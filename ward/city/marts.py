"""The city marts: each ward mart, the union of the wards' published marts with `ward_code`.

Read from each ward's published warehouse (<city>/wards/<code>/warehouse/ward.duckdb, ATTACHed
read-only), never from a build database: a ward whose last run failed contributes what it last
published, a ward never published is listed as missing. The city file is written beside itself and
renamed over <city>/city/city.duckdb, so a reader sees the old file or the new one, never half.
The same rows go to the city lake, <city>/city/lake/<mart>/ward_code=<code>/ (Parquet, ward.city.lake),
replaced whole just after the city file.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ward.city.lake import commit_lake, discard, stage_lake
from ward.city.settings import CitySettings, known_ward_codes

# The wards' marts the city unions (aggregates and the delivery ledger; no person-level table).
CITY_MARTS = (
    "mart_population_by_group",
    "mart_population_change",
    "mart_service_kpis",
    "mart_data_quality",
    "deliveries",
)


@dataclass(frozen=True)
class CityMarts:
    path: Path
    wards: tuple[str, ...]  # contributed their published warehouse
    missing: tuple[str, ...]  # never published
    rows: dict[str, int] = field(default_factory=dict)  # city mart -> rows
    lake: Path | None = None  # <city>/city/lake: the marts as Parquet by ward_code


def _ward_select(con: duckdb.DuckDBPyConnection, alias: str, code: str, mart: str) -> str | None:
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() "
            "where database_name = ? and schema_name = 'marts' and table_name = ?",
            [alias, mart],
        ).fetchall()
    ]
    if not columns:
        return None
    if "ward_code" in columns:  # the marts carry it (dbt's `ward_code` column)
        return f"select * from {alias}.marts.{mart}"
    return f"select '{code}' as ward_code, * from {alias}.marts.{mart}"


def build_city_marts(city: CitySettings, codes: tuple[str, ...]) -> CityMarts:
    """Write <city>/city/city.duckdb from the wards' published warehouses; returns what went in."""
    city.city_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    published = tuple(c for c in codes if city.ward_warehouse(c).exists())
    missing = tuple(c for c in codes if c not in published)
    target = city.city_db_path
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    rows: dict[str, int] = {}
    staged = None
    try:
        with duckdb.connect(str(temp)) as con:
            con.execute("create schema marts")
            for code in published:
                con.execute(f"attach '{city.ward_warehouse(code)}' as ward_{code} (read_only)")
            for mart in CITY_MARTS:
                selects = [s for c in published if (s := _ward_select(con, f"ward_{c}", c, mart))]
                if not selects:
                    continue
                con.execute(f"create table marts.{mart} as {' union all by name '.join(selects)}")
                rows[mart] = con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]
            names = known_ward_codes()
            con.execute(
                "create table marts.wards (ward_code varchar, ward_name varchar, status varchar, "
                "published_at timestamp)"
            )
            for code in codes:
                warehouse = city.ward_warehouse(code)
                published_at = (
                    datetime.fromtimestamp(warehouse.stat().st_mtime, UTC).replace(tzinfo=None)
                    if code in published
                    else None
                )
                con.execute(
                    "insert into marts.wards values (?, ?, ?, ?)",
                    [code, names.get(code), "published" if code in published else "missing", published_at],
                )
            for code in published:
                con.execute(f"detach ward_{code}")
            staged = stage_lake(con, city.lake_dir, tuple(rows))
        os.chmod(temp, 0o600)
        os.replace(temp, target)
        commit_lake(staged, city.lake_dir)
    finally:
        if staged is not None:
            discard(staged)  # nothing left once committed
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        with contextlib.suppress(FileNotFoundError):
            temp.with_name(temp.name + ".wal").unlink()
    return CityMarts(path=target, wards=published, missing=missing, rows=rows, lake=city.lake_dir)
