"""`ward sql`: an SQL prompt on the published warehouse, for reading only (ward.readers).

The pipeline never writes that file in place (it swaps a new one in), so a session here never blocks
a run and never sees a half-built table. A session keeps the version it opened. The connection can
query the warehouse and nothing else: no other file, no extension, no setting.
"""

from __future__ import annotations

import readline  # noqa: F401  (line editing and history for input())

import duckdb
from rich.console import Console
from rich.markup import escape

from ward.readers import connect_reader
from ward.settings import Settings

BANNER = """Phù Liễn ward warehouse (read-only): {path}
Marts: {marts}
`.tables` lists every table. End statements with ';'. Ctrl-D to leave."""

TABLES_SQL = """
    select table_schema || '.' || table_name from information_schema.tables
    where table_catalog = current_database() and table_schema like ?
    order by table_schema, table_name
"""


def tables(con: duckdb.DuckDBPyConnection, schema: str = "%") -> list[str]:
    """schema.table of every table and view of the warehouse (or of one schema), read from it."""
    return [name for (name,) in con.execute(TABLES_SQL, [schema]).fetchall()]


def _run(con: duckdb.DuckDBPyConnection, statement: str, console: Console) -> bool:
    try:
        relation = con.sql(statement)
        if relation is not None:
            relation.show(max_rows=40)
    except duckdb.Error as exc:
        console.print(f"[red]{type(exc).__name__}:[/] {escape(str(exc))}")
        return False
    return True


def _dot_command(con: duckdb.DuckDBPyConnection, line: str, console: Console) -> None:
    if line.split()[0] == ".tables":
        console.print("\n".join(tables(con)) or "(no tables)", highlight=False)
    else:
        console.print(f"Unknown command {escape(line)!r}: `.tables` lists the tables.")


def sql_prompt(settings: Settings, console: Console, command: str | None = None) -> int:
    """The prompt, or one statement (`command`); returns the exit code (1 when it failed)."""
    warehouse = settings.warehouse_path
    if not warehouse.exists():
        console.print(f"[red]No published warehouse at {warehouse}[/]: run `ward run` first.")
        return 1
    with connect_reader(settings) as con:
        if command:
            return 0 if _run(con, command, console) else 1
        marts = ", ".join(tables(con, "marts")) or "(none)"
        console.print(escape(BANNER.format(path=warehouse, marts=marts)), highlight=False)
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
            if not buffer and line.strip().startswith("."):
                _dot_command(con, line.strip(), console)
                continue
            buffer.append(line)
            if line.rstrip().endswith(";"):
                _run(con, "\n".join(buffer), console)
                buffer = []
