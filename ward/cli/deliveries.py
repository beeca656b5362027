"""`ward release` / `ward withdraw` (ward.deliveries.actions), and the held deliveries `ward run` lists."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from ward.settings import Settings


def release_command(settings: Settings, console: Console, name: str | None) -> int:
    from ward.deliveries.actions import NoSuchDelivery, release

    if not name:
        print_held(console, settings, always=True)
        return 0
    try:
        outcome = release(settings, name)
    except NoSuchDelivery as exc:
        console.print(f"[red]{escape(str(exc))}", highlight=False)
        return 1
    row = outcome.row
    console.print(
        f"Released {escape(row.source_file)} (sha256 {row.sha256[:12]}, extract date {row.extract_date}, "
        f"{row.rows_in or 0:,} rows; was {outcome.previous_status}). The next `ward run` builds from it.",
        highlight=False,
    )
    for other in outcome.superseded:
        console.print(
            f"It supersedes the earlier delivery of the same name (sha256 {other.sha256[:12]}, was "
            f"{'in use' if outcome.rebuild else 'held'}): its rows will no longer be used.",
            highlight=False,
        )
    if outcome.rebuild:
        console.print(
            "The next run rebuilds the warehouse whole, without the superseded rows.", highlight=False
        )
    console.print("Recorded in audit/deliveries.jsonl.", highlight=False)
    return 0


def withdraw_command(settings: Settings, console: Console, name: str) -> int:
    from ward.deliveries.actions import NoSuchDelivery, withdraw

    try:
        outcome = withdraw(settings, name)
    except NoSuchDelivery as exc:
        console.print(f"[red]{escape(str(exc))}", highlight=False)
        return 1
    row = outcome.row
    console.print(
        f"Withdrew {escape(row.source_file)} (sha256 {row.sha256[:12]}, extract date {row.extract_date}, "
        f"{row.rows_in or 0:,} rows; was {outcome.previous_status}). Its raw Parquet is set aside in "
        f"{escape(row.raw_path or '—')}; the landing file is left as it is and will not be read again.",
        highlight=False,
    )
    if outcome.rebuild:
        console.print(
            "Its rows were in use: the next `ward run` rebuilds everything whole, as if the file had never "
            "come (history and exports included).",
            highlight=False,
        )
    else:
        console.print("It was held: nothing was built from it, the next run changes only its ledger row.")
    console.print("Recorded in audit/deliveries.jsonl.", highlight=False)
    return 0


def print_held(console: Console, settings: Settings, *, always: bool = False) -> int:
    """List the held deliveries (none: a line only when `always`); returns how many."""
    from ward.deliveries.actions import held

    rows = held(settings) if settings.ledger_path.exists() else []
    if not rows:
        if always:
            console.print("No delivery is held.")
        return 0
    console.print(
        f"[yellow bold]{len(rows)} deliver{'y is' if len(rows) == 1 else 'ies are'} held[/] (not used: "
        "`ward release FILE` to use, `ward withdraw FILE` to drop):",
        highlight=False,
    )
    for row in rows:
        console.print(f"  [bold]{escape(row.source_file)}[/]: {escape(row.reason_en or '')}", highlight=False)
    return len(rows)
