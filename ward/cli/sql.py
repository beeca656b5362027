"""`ward sql`: an SQL prompt on the published warehouse, opened read-only.

The pipeline never writes that file in place (it swaps a new one in), so a session here never blocks
a run and never sees a half-built table. A session keeps the version it opened.
"""

from __future__ import annotations

import readline  # noqa: F401  (line editing and history for input())
from pathlib import Path

import duckdb
from rich.console import Console

BANNER = """Phù Liễn ward warehouse (read-only): {path}
Tables: marts.dim_citizen, marts.dim_household, marts.mart_population_by_group,
marts.fct_service_record, marts.mart_service_kpis, marts.mart_data_quality, marts.deliveries,
marts.findings, marts.quarantine. End statements with ';'. Ctrl-D to leave."""


def _run(con: duckdb.DuckDBPyConnection, statement: str, console: Console) -> None:
    try:
        relation = con.sql(statement)
        if relation is not None:
            relation.show(max_rows=40)
    except duckdb.Error as exc:
        console.print(f"[red]{type(exc).__name__}:[/] {exc}")


def sql_prompt(warehouse: Path, console: Console, command: str | None = None) -> int:
    if not warehouse.exists():
        console.print(f"[red]No published warehouse at {warehouse}[/]: run `ward run` first.")
        return 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if command:
            _run(con, command, console)
            return 0
        console.print(BANNER.format(path=warehouse))
        buffer: list[str] = []
        while True:
            try:
                line = input("ward> " if not buffer else "  ..> ")
            except EOFError:
                console.print()
                return 0
            except KeyboardInterrupt:
                buffer = []
                console.print()
                continue
            buffer.append(line)
            if line.rstrip().endswith(";"):
                _run(con, "\n".join(buffer), console)
                buffer = []
