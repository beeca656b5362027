"""Where `ward serve` reads: the published warehouse (locked reader) and the shared tier.

- The warehouse is opened only with ward.readers.connect_reader (read-only, no external access,
  configuration locked). One connection is kept and each request takes a cursor of it; when the
  pipeline swaps a new warehouse in (a new file), the next request opens the new one.
- The shared tier (exports/shared/*.parquet, no personal data) is what the `app` role reads. The
  locked reader cannot read files, so the files are read with pyarrow and copied into an in-memory
  DuckDB that is then locked the same way (no external access, configuration locked): a query there
  can read those tables and nothing else, not even the folder they came from. Rebuilt when the
  shared manifest changes.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow.parquet as pq

from ward.readers import READER_CONFIG, connect_reader
from ward.settings import Settings

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Unavailable(RuntimeError):
    """Nothing published yet (no warehouse, no shared tier): HTTP 503."""


class _Reloading:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: Any = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def _stamp_now(self) -> Any:
        raise NotImplementedError

    def _open(self) -> duckdb.DuckDBPyConnection:
        raise NotImplementedError

    def cursor(self) -> duckdb.DuckDBPyConnection:
        stamp = self._stamp_now()
        with self._lock:
            if self._con is None or stamp != self._stamp:
                # The old connection is left to the garbage collector: cursors still reading it keep it.
                self._con, self._stamp = self._open(), stamp
            return self._con.cursor()


class Warehouse(_Reloading):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def _stamp_now(self) -> Any:
        try:
            st = os.stat(self.settings.warehouse_path)
        except FileNotFoundError:
            raise Unavailable(
                f"no published warehouse at {self.settings.warehouse_path}: run `ward run`"
            ) from None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _open(self) -> duckdb.DuckDBPyConnection:
        return connect_reader(self.settings)


class SharedTier(_Reloading):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.folder = settings.exports_dir / "shared"

    def _stamp_now(self) -> Any:
        files = self.names()
        if not files:
            raise Unavailable(f"no shared tier at {self.folder} (is WARD_SHARED_EXPORT_KEY set for runs?)")
        stamps = []
        for name in files:
            st = os.stat(self.folder / f"{name}.parquet")
            stamps.append((name, st.st_ino, st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def names(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.stem for p in self.folder.glob("*.parquet") if _NAME.match(p.stem))

    def _open(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        con.execute("create schema marts")
        for name in self.names():
            table = pq.read_table(self.folder / f"{name}.parquet")
            con.register("_incoming", table)
            con.execute(f'create table marts."{name}" as select * from _incoming')
            con.unregister("_incoming")
        for option, value in READER_CONFIG.items():  # external access off, then the lock
            con.execute(f"set {option} = {str(value).lower()}")
        return con


# What each role may read row by row (GET /api/marts/{name}) -----------------------------------
# Aggregate marts: per-group counts (suppressed for roles without personal access).
AGGREGATE_MARTS = {
    "mart_population_by_group": ("residential_group_no", ("snapshot_date", "residential_group_no")),
    "mart_population_change": ("residential_group_no", ("month", "residential_group_no")),
    "mart_service_kpis": (None, ("month", "procedure_code")),
    "mart_data_quality": ("residential_group_no", ("source", "dimension", "metric", "residential_group_no")),
}
# Count columns of aggregate marts that small-cell suppression applies to (the denominator for shares).
SUPPRESSED_COLUMNS = {
    "mart_population_by_group": (
        "residents",
        "households",
        "male",
        "female",
        "temporary_residents",
        "absent",
        "age_0_5",
        "age_6_14",
        "age_15_59",
        "age_60_plus",
    ),
    "mart_population_change": (
        "births",
        "deaths",
        "moves_in",
        "moves_out",
        "household_changes",
        "residence_type_changes",
        "net_change",
    ),
    "mart_service_kpis": (
        "received",
        "received_online",
        "finished",
        "finished_on_time",
        "open_overdue_at_month_end",
    ),
    "mart_data_quality": ("denominator",),
}
# Shares hidden with the count they are a share of.
SUPPRESSED_WITH = {
    "mart_service_kpis": {"on_time_rate": "finished", "online_rate": "received"},
    "mart_data_quality": {"value": "denominator"},
}
# Rows about named persons, with the column naming their residential group, and the order of pages.
PERSONAL_MARTS = {
    "dim_citizen": ("residential_group_no", "person_key"),
    "dim_household": ("residential_group_no", "household_id"),
    "findings": ("residential_group_no", "source_file, row_number, rule"),
    "quarantine": ("residential_group_no", "source_file, row_number, rule"),
}
WORKLIST_MARTS = {"findings", "quarantine"}  # for group leaders: the open ones only


@dataclass(frozen=True)
class MartAccess:
    """How one role reads one mart: which rows, whether small cells are hidden."""

    table: str
    group_column: str | None
    order_by: str
    group_scope: int | None = None
    open_only: bool = False
    suppress: bool = False


def mart_access(role: str, group: int | None, name: str) -> MartAccess | None:
    """None when the role may not read the mart (the caller answers 403)."""
    if name in AGGREGATE_MARTS and role in ("leader", "group_leader", "steward"):
        column, keys = AGGREGATE_MARTS[name]
        if role == "steward" and name != "mart_data_quality":
            return None
        if role == "group_leader":
            return MartAccess(f"marts.{name}", column, ", ".join(keys), group_scope=group if column else None)
        return MartAccess(f"marts.{name}", column, ", ".join(keys), suppress=True)
    if name == "deliveries" and role in ("leader", "steward"):
        return MartAccess("marts.deliveries", None, "source, file_name, loaded_at")
    if name in PERSONAL_MARTS:
        column, order = PERSONAL_MARTS[name]
        if role == "group_leader":
            return MartAccess(
                f"marts.{name}", column, order, group_scope=group, open_only=name in WORKLIST_MARTS
            )
        if role == "steward" and name in WORKLIST_MARTS:
            return MartAccess(f"marts.{name}", column, order)
    return None


def read_page(
    con: duckdb.DuckDBPyConnection,
    access: MartAccess,
    page: int,
    page_size: int,
    group: int | None,
    min_cell: int | None,
) -> tuple[list[str], list[dict[str, Any]], int, int]:
    """Columns, rows of one page, total rows and suppressed cells."""
    conditions, params = [], []
    if access.group_scope is not None:
        conditions.append(f"{access.group_column} = ?")
        params.append(access.group_scope)
    if group is not None and access.group_column:
        conditions.append(f"{access.group_column} = ?")
        params.append(group)
    if access.open_only:
        conditions.append("resolved_at is null")
    where = f" where {' and '.join(conditions)}" if conditions else ""
    total = con.execute(f"select count(*) from {access.table}{where}", params).fetchall()[0][0]
    cur = con.execute(
        f"select * from {access.table}{where} order by {access.order_by} limit ? offset ?",
        [*params, page_size, (page - 1) * page_size],
    )
    columns = [d[0] for d in cur.description]
    rows = [dict(zip(columns, values, strict=True)) for values in cur.fetchall()]
    suppressed = suppress_rows(access.table.split(".")[-1], rows, min_cell) if access.suppress else 0
    return columns, rows, total, suppressed


def suppress_rows(mart: str, rows: list[dict[str, Any]], min_cell: int | None) -> int:
    from ward.serve.semantic import is_small

    if not min_cell:
        return 0
    hidden = 0
    counts = SUPPRESSED_COLUMNS.get(mart, ())
    shares = SUPPRESSED_WITH.get(mart, {})
    for row in rows:
        small = {c for c in counts if c in row and is_small(row[c], min_cell)}
        small |= {s for s, c in shares.items() if s in row and is_small(row.get(c), min_cell)}
        for c in small:
            row[c] = None
        hidden += len(small)
        row["suppressed_columns"] = sorted(small)
    return hidden


def read_shared_page(
    con: duckdb.DuckDBPyConnection,
    name: str,
    page: int,
    page_size: int,
    min_cell: int | None,
    group: int | None = None,
) -> tuple[list[str], list[dict[str, Any]], int, int]:
    """A page of a shared-tier table (the app role), small cells of aggregate marts hidden."""
    columns = [d[0] for d in con.execute(f'select * from marts."{name}" limit 0').description]
    where, params = "", []
    if group is not None and "residential_group_no" in columns:
        where, params = " where residential_group_no = ?", [group]
    total = con.execute(f'select count(*) from marts."{name}"{where}', params).fetchall()[0][0]
    cur = con.execute(
        f'select * from marts."{name}"{where} order by all limit ? offset ?',
        [*params, page_size, (page - 1) * page_size],
    )
    columns = [d[0] for d in cur.description]
    rows = [dict(zip(columns, values, strict=True)) for values in cur.fetchall()]
    hidden = suppress_rows(name, rows, min_cell) if name in SUPPRESSED_COLUMNS else 0
    return columns, rows, total, hidden


def row_groups(rows: list[dict[str, Any]], column: str | None = "residential_group_no") -> list[int | None]:
    if not rows or not column or column not in rows[0]:
        return []
    return sorted({r[column] for r in rows}, key=lambda g: (g is None, g))


def ensure_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(name)
    return name


__all__ = [
    "MartAccess",
    "SharedTier",
    "Unavailable",
    "Warehouse",
    "ensure_name",
    "mart_access",
    "read_page",
    "read_shared_page",
    "row_groups",
]
