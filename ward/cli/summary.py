"""The headline figures `ward run` prints at the end, read from the published warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ward.ingest.extract_date import ward_today

HEADLINES = {
    "residents (latest snapshot)": """
        select residents from marts.mart_population_by_group
        where residential_group_no is null order by snapshot_date desc limit 1""",
    "households (latest snapshot)": "select count(*) from marts.dim_household",
    "dossiers": "select count(*) from marts.fct_service_record",
    "files loaded": "select count(*) from marts.deliveries where status = 'loaded'",
    "files rejected": "select count(*) from marts.deliveries where status = 'rejected'",
    "files duplicate": "select count(*) from marts.deliveries where status = 'duplicate'",
    "rows quarantined (open)": "select count(distinct (source_file, row_number)) "
    "from marts.quarantine where resolved_at is null",
    "findings to review": "select count(*) from marts.findings where resolved_at is null",
}


# Age of each source's latest loaded extract today, against its threshold (orchestration/freshness.py
# watches the same on a timer under `ward ui`).
FRESHNESS = """
    select t.source, max(d.extract_date), cast(? as date) - max(d.extract_date), t.max_days
    from quality.freshness_thresholds t
    left join marts.deliveries d on d.source = t.source and d.status = 'loaded'
    group by t.source, t.max_days order by t.source"""


def headline_figures(warehouse: Path) -> dict[str, int | str | None]:
    figures: dict[str, int | str | None] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for label, sql in HEADLINES.items():
            row = con.execute(sql).fetchall()
            figures[label] = row[0][0] if row else None
        ages = [
            f"{source} {latest}, {age} days old (limit {limit}){'' if age <= limit else ': STALE'}"
            if latest
            else f"{source}: none loaded"
            for source, latest, age, limit in con.execute(FRESHNESS, [ward_today()]).fetchall()
        ]
        figures["freshness (latest extract, age today)"] = "; ".join(ages) or None
    return figures


def print_summary(console: Console, figures: dict[str, int | str | None], places: dict[str, str]) -> None:
    table = Table(title="Phù Liễn ward — run summary", show_header=False)
    for label, value in figures.items():
        shown = "—" if value is None else escape(value) if isinstance(value, str) else f"{value:,}"
        table.add_row(escape(label), shown)
    console.print(table)
    for label, place in places.items():
        console.print(f"[bold]{escape(label)}:[/] {escape(str(place))}")  # paths may hold [...]
