"""The `ward` command: generate a sample ward, run the pipeline, open the UI or an SQL prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ward.city.cli import app as city_app
from ward.settings import ENV_DATA_DIR, Settings, SettingsError

app = typer.Typer(
    help=f"Phù Liễn ward data platform. Data root: ${ENV_DATA_DIR} (default data/).",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


@app.callback()
def _settings_it_can_use() -> None:
    # A setting the platform refuses (ward.settings.SettingsError) stops every command, with its reason.
    try:
        Settings.from_env()
    except SettingsError as exc:
        console.print(f"[red]{escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


@app.command()
def generate(
    people: Annotated[int, typer.Option(help="Residents of the synthetic ward.")] = 60_000,
    groups: Annotated[int, typer.Option(help="Residential groups (at most 40).")] = 40,
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 11446,
    out: Annotated[Path | None, typer.Option(help="Data root to write (default: $WARD_DATA_DIR).")] = None,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when landing/ has files.")] = False,
) -> None:
    """Write a synthetic ward's extracts into landing/, and the truth beside them in truth/."""
    from ward.generate import generate_ward

    data_dir = out.resolve() if out else Settings.from_env().data_dir
    landing = data_dir / "landing"
    if if_empty and landing.exists() and any(p.is_file() for p in landing.rglob("*")):
        console.print(f"{landing} already has files: nothing generated.")
        return
    try:
        summary = generate_ward(data_dir, people=people, groups=groups, seed=seed)
    except FileExistsError:
        console.print(
            f"[red]{landing} already holds files[/]: the generator never mixes a synthetic ward into "
            "real or earlier extracts. Use --if-empty, another --out, or empty that folder first."
        )
        raise typer.Exit(1) from None
    except ValueError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from None
    console.print(f"Generated into {landing}: {summary}")


@app.command()
def run(
    full_refresh: Annotated[
        bool, typer.Option("--full-refresh", help="Restage and rebuild everything, not only what is new.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="If another run is in progress, wait for it instead of exiting 3.")
    ] = False,
) -> None:
    """Run the whole pipeline once, in-process; exit 1 when a blocking check fails, 3 when another
    run is in progress."""
    from ward.long_lived import created_for_good, freeze_long_lived
    from ward.warm_workers import warm_workers

    settings = Settings.from_env()
    # First: dbt and GX warm up on the other core while this process imports Dagster.
    with warm_workers(settings):
        with created_for_good():
            from ward.cli.run import run_pipeline
        code = run_pipeline(settings, console, full_refresh=full_refresh, wait=wait)
        freeze_long_lived()  # the process ends now: its last collections need not walk everything
    raise typer.Exit(code)


@app.command()
def ui(
    port: Annotated[int | None, typer.Option(help="Port (default $WARD_UI_PORT or 3000).")] = None,
) -> None:
    """Start the Dagster UI and daemon on 127.0.0.1."""
    from ward.cli.ui import start_ui

    raise typer.Exit(start_ui(Settings.from_env(), port))


@app.command()
def sql(
    command: Annotated[
        str | None, typer.Option("-c", "--command", help="Run one statement and exit.")
    ] = None,
) -> None:
    """An SQL prompt on the published warehouse (read-only)."""
    from ward.cli.sql import sql_prompt

    raise typer.Exit(sql_prompt(Settings.from_env(), console, command))


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="Port (default $WARD_SERVE_PORT or 8000).")] = None,
    new_key: Annotated[
        str | None, typer.Option("--new-key", help="Print a new key of this role and its keys-file line.")
    ] = None,
    name: Annotated[str, typer.Option(help="With --new-key: who holds the key.")] = "",
    group: Annotated[int | None, typer.Option(help="With --new-key group_leader: the group.")] = None,
) -> None:
    """Serve the API and the leaders' page on 127.0.0.1 (read-only, keys and roles, audited)."""
    from ward.cli.serve import print_new_key, start_server

    if new_key:
        raise typer.Exit(print_new_key(console, new_key, name or new_key, group))
    raise typer.Exit(start_server(Settings.from_env(), console, port))


@app.command()
def quarantine(
    group: Annotated[int, typer.Option(help="Residential group number (tổ dân phố).")],
    xlsx: Annotated[Path, typer.Option(help="Spreadsheet to write.")],
) -> None:
    """Write one residential group's open problems as a spreadsheet in Vietnamese."""
    from ward.cli.worklist import write_worklist

    warehouse = Settings.from_env().warehouse_path
    if not warehouse.exists():
        console.print(f"[red]No published warehouse at {warehouse}[/]: run `ward run` first.")
        raise typer.Exit(1)
    rows = write_worklist(warehouse, group, xlsx, readers_group=Settings.from_env().readers_group)
    console.print(f"{rows} open problem(s) of Tổ dân phố {group} written to {xlsx}")


@app.command()
def release(
    file: Annotated[
        str | None, typer.Argument(help="The held delivery: citizens/<name>, its name, or its sha256.")
    ] = None,
) -> None:
    """Use a held delivery from the next run on (without FILE: list the held deliveries)."""
    from ward.cli.deliveries import release_command

    raise typer.Exit(release_command(Settings.from_env(), console, file))


@app.command()
def withdraw(
    file: Annotated[str, typer.Argument(help="The delivery: citizens/<name>, its name, or its sha256.")],
) -> None:
    """Stop using a delivery: the next run rebuilds as if it had never come (audited)."""
    from ward.cli.deliveries import withdraw_command

    raise typer.Exit(withdraw_command(Settings.from_env(), console, file))


app.add_typer(city_app, name="city")  # `ward city …`: many wards, one deployment (ward/city/)
